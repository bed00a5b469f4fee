//! KSM-compatible sharding: FNV-1a-64 of the uid fed into jump consistent hash
//! (ksm-behaviour.md §6.4), so kubestate and KSM shards can be mixed.

/// This instance's share of the objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sharding {
    /// Shard index, `0..total`.
    pub shard: u32,
    /// Number of shards; `1` disables sharding.
    pub total: u32,
}

impl Default for Sharding {
    fn default() -> Sharding {
        Sharding { shard: 0, total: 1 }
    }
}

impl Sharding {
    /// Whether this shard keeps the object with `uid`.
    pub fn keeps(&self, uid: &str) -> bool {
        self.total <= 1 || jump(fnv1a64(uid.as_bytes()), self.total) == self.shard
    }

    /// Whether sharding is in effect.
    pub fn is_active(&self) -> bool {
        self.total > 1
    }
}

/// 64-bit FNV-1a.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Google's jump consistent hash: the bucket in `0..buckets` of `key`.
pub fn jump(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ksm_vectors() {
        assert_eq!(jump(256, 1024), 520);
        assert_eq!(fnv1a64(b"test_uid"), 0x0ec2_4244_3e03_8614);
        assert_eq!(jump(fnv1a64(b"test_uid"), 2), 0);
        let s = Sharding { shard: 0, total: 2 };
        assert!(s.keeps("test_uid"));
        assert!(!Sharding { shard: 1, total: 2 }.keeps("test_uid"));
        assert!(Sharding::default().keeps("anything"));
    }

    #[test]
    fn every_uid_lands_in_exactly_one_shard() {
        for i in 0..500 {
            let uid = format!("uid-{i}");
            let owners = (0..5)
                .filter(|s| {
                    Sharding {
                        shard: *s,
                        total: 5,
                    }
                    .keeps(&uid)
                })
                .count();
            assert_eq!(owners, 1, "{uid}");
        }
    }
}
