//! The machinery behind "each flag is declared once": the [`flags!`](crate::flags!) macro
//! turns one table of flags into the options struct, its clap arguments, its `--config` keys,
//! its defaults, its per-flag validation and its part of the engine configuration; the
//! [`Codec`]s say how each kind of value is read from a command line and from a `--config`
//! document.
//!
//! The table itself lives in [`crate::options`]. An entry reads:
//!
//! ```text
//! /// Help text (the first paragraph is what `--help` shows).
//! field: Type = default => flag("long-name"), Codec, key("config_key"),
//!     check = |value| Ok(()), engine = |value, config| config.x = ...;
//! ```
//!
//! `short = 'c'` may follow the long name; `key(...)` (one or more keys; the first is the
//! canonical one, others are aliases), `check`, `engine` and `hidden = true` are optional, in
//! that order.
//!
//! To add a flag: add its entry to the table in `options.rs` (the codec says how it is read:
//! [`Text`], [`Bool`], [`Int`], [`Float`], [`GoDuration`], [`List`], [`Set`] or
//! [`KeyAllowlist`]); give it `key(...)` only if KSM's options file has one; put a per-flag
//! rule in `check` (it runs on command-line, `--config` and programmatic values alike, and its
//! message is prefixed with the flag) and its engine setting in `engine`; read anything else
//! from the field where it is used. Then list it in `tests/flags.rs` (`KSM_FLAGS` or
//! `OWN_FLAGS`, and a round-trip case when it has a key): the tests fail until you do.

use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};
use serde_yaml::Value as Yaml;

/// How one kind of flag value is read from the command line and from a `--config` document,
/// and written back (for `--help` defaults and tests).
pub trait Codec<T> {
    /// Configures clap's argument: how many values, delimiter, value parser.
    fn arg(arg: Arg) -> Arg;
    /// The value given on the command line, if the flag was given.
    fn from_matches(m: &ArgMatches, id: &str) -> Option<T>;
    /// The value of a `--config` key.
    ///
    /// # Errors
    /// A value of the wrong type, saying what was expected.
    fn from_yaml(v: &Yaml) -> Result<T, String>;
    /// The value as command-line values (`--flag=V` for each); empty when there is nothing to
    /// write (an empty list).
    fn to_args(v: &T) -> Vec<String>;
}

/// The single value of a flag (the last occurrence wins, as with Go's flag package).
fn last<T: Clone + Send + Sync + 'static>(m: &ArgMatches, id: &str) -> Option<T> {
    m.try_get_many::<T>(id).ok().flatten()?.next_back().cloned()
}

/// Every value of a repeatable flag, in order.
fn all(m: &ArgMatches, id: &str) -> Option<Vec<String>> {
    Some(
        m.try_get_many::<String>(id)
            .ok()
            .flatten()?
            .cloned()
            .collect(),
    )
}

/// A string: `--flag=value`; in YAML a string (numbers and booleans are taken as written).
pub struct Text;

impl Codec<String> for Text {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(1)
            .value_name("STRING")
            .action(ArgAction::Append)
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<String> {
        last(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<String, String> {
        match v {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Number(n) => Ok(n.to_string()),
            Yaml::Bool(b) => Ok(b.to_string()),
            Yaml::Null => Ok(String::new()),
            _ => Err("expected a string".into()),
        }
    }
    fn to_args(v: &String) -> Vec<String> {
        vec![v.clone()]
    }
}

/// Go's `strconv.ParseBool`, which pflag uses for boolean flags.
pub fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (use true or false)")),
    }
}

/// A boolean: `--flag` (true), `--flag=true|false` (also Go's `1`, `t`, `F`, ...); in YAML
/// `true`/`false`.
pub struct Bool;

impl Codec<bool> for Bool {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(0..=1)
            .value_name("BOOL")
            .default_missing_value("true")
            .action(ArgAction::Append)
            .value_parser(parse_go_bool)
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<bool> {
        last(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<bool, String> {
        v.as_bool()
            .ok_or_else(|| "expected true or false".to_string())
    }
    fn to_args(v: &bool) -> Vec<String> {
        vec![v.to_string()]
    }
}

/// An integer of type `T`: `--flag=N`; in YAML a number.
pub struct Int;

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Codec<$t> for Int {
            fn arg(arg: Arg) -> Arg {
                arg.num_args(1).value_name("INT").action(ArgAction::Append).value_parser(|s: &str| {
                    s.trim().parse::<$t>().map_err(|_| {
                        format!(
                            "{s:?} is not a whole number between {} and {}",
                            <$t>::MIN,
                            <$t>::MAX
                        )
                    })
                })
            }
            fn from_matches(m: &ArgMatches, id: &str) -> Option<$t> {
                last(m, id)
            }
            fn from_yaml(v: &Yaml) -> Result<$t, String> {
                let range = || format!("expected a whole number between {} and {}", <$t>::MIN, <$t>::MAX);
                match v {
                    Yaml::Number(n) => n
                        .as_i64()
                        .and_then(|x| <$t>::try_from(x).ok())
                        .or_else(|| n.as_u64().and_then(|x| <$t>::try_from(x).ok()))
                        .ok_or_else(range),
                    _ => Err(range()),
                }
            }
            fn to_args(v: &$t) -> Vec<String> {
                vec![v.to_string()]
            }
        }
    )*};
}

int_codec!(u8, u16, i32, i64, u64);

/// A floating-point number: `--flag=0.5`; in YAML a number.
pub struct Float;

impl Codec<f64> for Float {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(1)
            .value_name("FLOAT")
            .action(ArgAction::Append)
            .value_parser(|s: &str| {
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{s:?} is not a number"))
            })
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<f64> {
        last(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<f64, String> {
        v.as_f64().ok_or_else(|| "expected a number".to_string())
    }
    fn to_args(v: &f64) -> Vec<String> {
        vec![v.to_string()]
    }
}

/// A Go duration: `--flag=1m30s`; in YAML a duration string, or a number of nanoseconds (as
/// yaml.v3 decodes a number into a Go `time.Duration`).
pub struct GoDuration;

impl Codec<Duration> for GoDuration {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(1)
            .value_name("DURATION")
            .action(ArgAction::Append)
            .value_parser(crate::duration::parse_go_duration)
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<Duration> {
        last(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<Duration, String> {
        match v {
            Yaml::String(s) => crate::duration::parse_go_duration(s),
            Yaml::Number(n) => n
                .as_u64()
                .map(Duration::from_nanos)
                .ok_or_else(|| "expected a duration such as 1m0s".to_string()),
            _ => Err("expected a duration such as 1m0s".into()),
        }
    }
    fn to_args(v: &Duration) -> Vec<String> {
        vec![crate::duration::format_go_duration(*v)]
    }
}

fn strings(items: &[Yaml], what: &str) -> Result<Vec<String>, String> {
    items
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("expected {what}"))
        })
        .collect()
}

/// A comma-separated list that repeats (`--flag=a,b --flag c` is `[a, b, c]`); in YAML a
/// list of strings.
pub struct List;

impl Codec<Vec<String>> for List {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(1)
            .value_name("A,B,...")
            .action(ArgAction::Append)
            .value_delimiter(',')
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<Vec<String>> {
        all(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<Vec<String>, String> {
        match v {
            Yaml::Sequence(s) => strings(s, "a list of strings"),
            Yaml::Null => Ok(Vec::new()),
            _ => Err("expected a list of strings such as [a, b]".into()),
        }
    }
    fn to_args(v: &Vec<String>) -> Vec<String> {
        if v.is_empty() {
            Vec::new()
        } else {
            vec![v.join(",")]
        }
    }
}

/// A set, on the command line like [`List`]; in YAML (as KSM writes its sets) a map whose keys
/// are the members (`{pods: {}, nodes: {}}`); a list is accepted too.
pub struct Set;

impl Codec<Vec<String>> for Set {
    fn arg(arg: Arg) -> Arg {
        List::arg(arg)
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<Vec<String>> {
        all(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<Vec<String>, String> {
        match v {
            Yaml::Mapping(m) => m
                .keys()
                .map(|k| {
                    k.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "expected string members".to_string())
                })
                .collect(),
            Yaml::Sequence(s) => strings(s, "string members"),
            Yaml::Null => Ok(Vec::new()),
            _ => Err("expected a map such as {pods: {}, nodes: {}}".into()),
        }
    }
    fn to_args(v: &Vec<String>) -> Vec<String> {
        List::to_args(v)
    }
}

/// A label/annotation allowlist: `--flag='pods=[app,team],nodes=[*]'`, repeatable (every
/// occurrence must be valid; the last one counts); in YAML a map of resource to a list of
/// keys (`{pods: [app, team]}`).
pub struct KeyAllowlist;

impl Codec<Vec<String>> for KeyAllowlist {
    fn arg(arg: Arg) -> Arg {
        arg.num_args(1)
            .value_name("RES=[KEYS]")
            .action(ArgAction::Append)
    }
    fn from_matches(m: &ArgMatches, id: &str) -> Option<Vec<String>> {
        all(m, id)
    }
    fn from_yaml(v: &Yaml) -> Result<Vec<String>, String> {
        let Yaml::Mapping(m) = v else {
            if v.is_null() {
                return Ok(Vec::new());
            }
            return Err("expected a map of resource to a list of keys".into());
        };
        let mut parts = Vec::new();
        for (r, keys) in m {
            let r = r
                .as_str()
                .ok_or_else(|| "resource names must be strings".to_string())?;
            let keys = match keys {
                Yaml::Sequence(s) => strings(s, "a list of keys")?,
                Yaml::Null => Vec::new(),
                _ => return Err(format!("{r}: expected a list of keys")),
            };
            parts.push(format!("{r}=[{}]", keys.join(",")));
        }
        Ok(vec![parts.join(",")])
    }
    fn to_args(v: &Vec<String>) -> Vec<String> {
        v.clone()
    }
}

/// What the table says about one flag, for help, documentation and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagInfo {
    /// The options struct's field.
    pub field: &'static str,
    /// The long flag name, without `--`.
    pub long: &'static str,
    /// The one-letter form, if any.
    pub short: Option<char>,
    /// The `--config` keys; the first is canonical, the others aliases. Empty: no key.
    pub keys: &'static [&'static str],
    /// Hidden from `--help`.
    pub hidden: bool,
}

/// Declares the options struct from a table of flags; see the [module docs](self).
#[macro_export]
macro_rules! flags {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr =>
                    flag($long:literal $(, short = $short:literal)?)
                    , $codec:ty
                    $(, key($($key:literal),*))?
                    $(, check = $check:expr)?
                    $(, engine = $engine:expr)?
                    $(, hidden = $hidden:literal)?
                ;
            )*
        }
    ) => {
        $(#[$smeta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name { $($field: $default,)* }
            }
        }

        impl $name {
            /// Every flag of the table, in declaration order.
            pub const FLAGS: &'static [$crate::flags::FlagInfo] = &[$(
                $crate::flags::FlagInfo {
                    field: stringify!($field),
                    long: $long,
                    short: $crate::flags!(@opt $($short)?),
                    keys: &[$($($key),*)?],
                    hidden: $crate::flags!(@or_false $($hidden)?),
                },
            )*];

            /// Sets the field a `--config` key names. `Ok(false)` for a key no flag has.
            fn set_key(&mut self, key: &str, v: &serde_yaml::Value) -> Result<bool, String> {
                $(
                    if [$($($key),*)?].contains(&key) {
                        let value = <$codec as $crate::flags::Codec<$ty>>::from_yaml(v)?;
                        $( $crate::flags::run_check::<$ty>($check, &value)?; )?
                        self.$field = value;
                        return Ok(true);
                    }
                )*
                Ok(false)
            }

            /// Runs every flag's own check on the current values; the error names the flag.
            fn check_each(&self) -> Result<(), String> {
                $( $(
                    $crate::flags::run_check::<$ty>($check, &self.$field).map_err(|e| {
                        let flag = concat!("--", $long);
                        if e.starts_with(flag) { e } else { format!("{flag}: {e}") }
                    })?;
                )? )*
                Ok(())
            }

            /// Writes the flags that map onto the engine configuration into `config`.
            fn map_to_engine(&self, config: &mut kubestate_engine::Config) {
                $( $( $crate::flags::run_engine::<$ty>($engine, &self.$field, &mut *config); )? )*
                let _ = config;
            }

            /// Sets the field named `field` (as in [`FlagInfo::field`](crate::flags::FlagInfo::field)) to its value in
            /// `from`; `false` for a name the table does not have.
            pub fn take_field(&mut self, from: &$name, field: &str) -> bool {
                $(
                    if field == stringify!($field) {
                        self.$field = from.$field.clone();
                        return true;
                    }
                )*
                false
            }

            /// Every flag with its value as command-line values, in table order.
            pub fn values(&self) -> Vec<(&'static str, Vec<String>)> {
                vec![$(($long, <$codec as $crate::flags::Codec<$ty>>::to_args(&self.$field)),)*]
            }

            /// Every flag whose value differs from its default, as `(flag, values)`.
            pub fn changed(&self) -> Vec<(&'static str, Vec<String>)> {
                let defaults = $name::default();
                let mut out = Vec::new();
                $(
                    if self.$field != defaults.$field {
                        out.push(($long, <$codec as $crate::flags::Codec<$ty>>::to_args(&self.$field)));
                    }
                )*
                out
            }
        }

        impl clap::FromArgMatches for $name {
            fn from_arg_matches(m: &clap::ArgMatches) -> Result<$name, clap::Error> {
                let mut o = $name::default();
                o.update_from_arg_matches(m)?;
                Ok(o)
            }
            fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
                $(
                    if let Some(value) =
                        <$codec as $crate::flags::Codec<$ty>>::from_matches(m, stringify!($field))
                    {
                        self.$field = value;
                    }
                )*
                Ok(())
            }
        }

        impl clap::Args for $name {
            fn augment_args(cmd: clap::Command) -> clap::Command {
                let defaults = $name::default();
                cmd $(.arg({
                    let help = $crate::flags::help_text(
                        &[$($doc),*],
                        &<$codec as $crate::flags::Codec<$ty>>::to_args(&defaults.$field),
                    );
                    let arg = clap::Arg::new(stringify!($field))
                        .long($long)
                        .help(help)
                        .hide($crate::flags!(@or_false $($hidden)?));
                    $( let arg = arg.short($short); )?
                    <$codec as $crate::flags::Codec<$ty>>::arg(arg)
                }))*
            }
            fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
                Self::augment_args(cmd)
            }
        }
    };
    (@opt $x:literal) => { Some($x) };
    (@opt) => { None };
    (@or_false $x:literal) => { $x };
    (@or_false) => { false };
}

/// The `--help` text of a flag: the first paragraph of its doc comment, and its default when
/// it has one worth showing.
pub fn help_text(doc: &[&str], default: &[String]) -> String {
    let mut text = String::new();
    for line in doc {
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line);
    }
    let default = default.join(",");
    if !default.is_empty() && default != "false" {
        text.push_str(&format!(" [default: {default}]"));
    }
    text
}

/// Runs a flag's check on a value (a function, so the closure's argument type is known).
///
/// # Errors
/// What the check says is wrong with the value.
pub fn run_check<T>(check: impl Fn(&T) -> Result<(), String>, value: &T) -> Result<(), String> {
    check(value)
}

/// Applies a flag's engine mapping (a function, so the closure's argument types are known).
pub fn run_engine<T>(
    engine: impl Fn(&T, &mut kubestate_engine::Config),
    value: &T,
    config: &mut kubestate_engine::Config,
) {
    engine(value, config)
}
