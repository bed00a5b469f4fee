"""End-to-end test of the live explorer in a real browser (headless Chromium via Selenium).

Run by tests/explorer.rs against an exporter watching a simulated cluster with churn:

    python3 explorer_browser.py EXPLORER_URL SIM_URL SCREENSHOT_DIR CHROMIUM CHROMEDRIVER

Checks that the overview shows the counts /metrics holds, that a live graph gains points
while the simulator churns, that a query returns the rows /metrics implies, and that a pod's
page lists every series of that pod with its owner chain. Saves a screenshot of each page.
Exits non-zero with a message on the first failed check.
"""

import json
import re
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

BASE, SIM, SHOTS, CHROMIUM, DRIVER = sys.argv[1:6]
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def http(url, data=None, method=None):
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def api(path):
    return json.loads(http(BASE + "/api/v1/explorer" + path))


def churn(rate):
    http(SIM + "/_sim/churn", json.dumps({"rate": rate}).encode(), "POST")


def metrics():
    """Every sample of /metrics as (name, labels dict, value)."""
    out = []
    for line in http(BASE + "/metrics").splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            fail("unparsable /metrics line: " + line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def quiesce():
    """Pauses churn and waits until the explorer sampled a world that no longer changes."""
    churn(0)
    time.sleep(1.5)
    paused = time.time()
    deadline = time.time() + 30
    while time.time() < deadline:
        if api("/overview")["time"] > paused:
            return
        time.sleep(0.5)
    fail("no explorer sample after churn paused")


def wait(driver, cond, what, timeout=20):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # the page may be redrawing
            last = e
        time.sleep(0.25)
    shot(driver, "failed")
    fail(f"timed out waiting for {what} ({last})")


def shot(driver, name):
    driver.save_screenshot(f"{SHOTS}/{name}.png")


def goto(driver, hash_):
    # A new hash on the same page does not reload it: forget the last view's ready mark first.
    driver.execute_script("if (document.body) delete document.body.dataset.ready")
    driver.get(BASE + "/" + hash_)
    wait(driver, lambda: driver.execute_script("return document.body.dataset.ready"), "page ready " + hash_)


def text(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text.strip()


def as_int(s):
    return int(s.replace(",", "").split()[0])


def main():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1440,1000", "--hide-scrollbars", "--force-device-scale-factor=1"]:
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        run(driver)
    finally:
        driver.quit()
    print("OK: explorer checks passed", flush=True)


def run(driver):
    # ---- overview: counts equal what /metrics holds ---------------------------------------
    quiesce()
    samples = metrics()
    goto(driver, "#/overview")
    fams = Counter(n for n, _, _ in samples)
    want = {
        "pods": fams["kube_pod_info"],
        "nodes": fams["kube_node_info"],
        "namespaces": fams["kube_namespace_created"],
        "deployments": fams["kube_deployment_created"],
    }
    for resource, n in want.items():
        got = as_int(text(driver, f'tr[data-resource="{resource}"] td[data-col="objects"]'))
        if got != n:
            fail(f"overview shows {got} {resource}, /metrics has {n}")
    if as_int(text(driver, "#stat-series")) != len(samples):
        fail(f"overview shows {text(driver, '#stat-series')} series, /metrics has {len(samples)}")
    if as_int(text(driver, "#stat-pods")) != want["pods"]:
        fail("pods card differs from /metrics")
    phases = Counter(l["phase"] for n, l, v in samples if n == "kube_pod_status_phase" and v == 1)
    for phase, n in phases.items():
        got = as_int(text(driver, f'b[data-phase="{phase}"]'))
        if got != n:
            fail(f"overview shows {got} {phase} pods, /metrics has {n}")
    crash = sum(1 for n, l, v in samples if n == "kube_pod_container_status_waiting_reason"
                and l.get("reason") == "CrashLoopBackOff" and v == 1)
    not_ready = sum(1 for n, l, v in samples if n == "kube_node_status_condition"
                    and l.get("condition") == "Ready" and l.get("status") != "true" and v == 1)
    pending_pvc = sum(1 for n, l, v in samples if n == "kube_persistentvolumeclaim_status_phase"
                      and l.get("phase") == "Pending" and v == 1)
    for pid, n in [("containers-crashlooping", crash), ("nodes-not-ready", not_ready),
                   ("pvcs-pending", pending_pvc)]:
        got = as_int(text(driver, f'a[data-problem="{pid}"] .count'))
        if got != n:
            fail(f"problem {pid}: overview shows {got}, /metrics has {n}")
    if crash == 0:
        fail("the simulated world should hold crash-looping containers")
    shot(driver, "overview")
    print(f"overview: {want} series={len(samples)} phases={dict(phases)} crashloop={crash}", flush=True)

    # The list behind a count.
    driver.find_element(By.CSS_SELECTOR, 'a[data-problem="containers-crashlooping"]').click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#problem-items tbody tr")) == min(crash, 1000),
         "crash-looping list")
    shot(driver, "problem-list")

    # ---- query: rows equal the aggregation of /metrics ------------------------------------
    goto(driver, "#/query")
    box = driver.find_element(By.ID, "query-input")
    box.send_keys("sum by (phase) (kube_pod_status_phase == 1)", Keys.ENTER)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#query-rows tbody tr"), "query rows")
    rows = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "#query-rows tbody tr"):
        label, value = tr.find_elements(By.TAG_NAME, "td")
        m = re.search(r"phase=(\w+)", label.text.replace("\n", ""))
        rows[m.group(1)] = int(float(value.text.replace(",", "")))
    if rows != dict(phases):
        fail(f"query rows {rows} differ from /metrics {dict(phases)}")
    shot(driver, "query")
    goto(driver, "#/query?q=" + urllib.parse.quote('kube_node_info'))
    wait(driver, lambda: driver.find_elements(By.ID, "query-count"), "node rows")
    if as_int(text(driver, "#query-count")) != want["nodes"]:
        fail(f"kube_node_info: {text(driver, '#query-count')}, /metrics has {want['nodes']}")
    goto(driver, "#/query?q=" + urllib.parse.quote('kube_pod_info{pod=~"("}'))
    wait(driver, lambda: "regular expression" in text(driver, "#query-error"), "query error shown")
    print(f"query: {rows}", flush=True)

    # ---- object: a pod's page lists all its series and its owner chain --------------------
    owners = {(l["namespace"], l["pod"]) for n, l, v in samples
              if n == "kube_pod_owner" and l.get("owner_kind") == "ReplicaSet"}
    rs_owned = {(l["namespace"], l["replicaset"]) for n, l, v in samples
                if n == "kube_replicaset_owner" and l.get("owner_kind") == "Deployment"}
    rs_of = {(l["namespace"], l["pod"]): l["owner_name"] for n, l, v in samples
             if n == "kube_pod_owner" and l.get("owner_kind") == "ReplicaSet"}
    pick = sorted(p for p in owners if (p[0], rs_of[p]) in rs_owned)
    if not pick:
        fail("no pod owned by a replicaset of a deployment in /metrics")
    ns, pod = pick[0]
    series = sum(1 for n, l, v in samples if l.get("namespace") == ns and l.get("pod") == pod
                 and n.startswith("kube_pod_"))
    goto(driver, f"#/object/pods/{ns}/{pod}")
    wait(driver, lambda: driver.find_elements(By.ID, "object-count"), "object page")
    if as_int(text(driver, "#object-count")) != series:
        fail(f"pod {ns}/{pod}: page shows {text(driver, '#object-count')}, /metrics has {series}")
    shown = len(driver.find_elements(By.CSS_SELECTOR, "table.object-series tbody tr"))
    if shown != series:
        fail(f"pod {ns}/{pod}: {shown} rows listed, /metrics has {series} series")
    kinds = [e.get_attribute("data-owner") for e in driver.find_elements(By.CSS_SELECTOR, "#owners [data-owner]")]
    if kinds[:2] != ["replicasets", "deployments"]:
        fail(f"pod {ns}/{pod}: owner chain {kinds}, expected replicasets → deployments")
    shot(driver, "object")
    print(f"object: {ns}/{pod} series={series} owners={kinds}", flush=True)

    # ---- graphs: points arrive while churn runs -------------------------------------------
    churn(50)
    goto(driver, "#/query?q=" + urllib.parse.quote("count by (namespace) (kube_pod_info)"))
    wait(driver, lambda: driver.find_elements(By.ID, "query-pin"), "pin button")
    driver.find_element(By.ID, "query-pin").click()
    wait(driver, lambda: driver.execute_script("return document.body.dataset.view") == "graphs", "graphs after pin")
    plot = '.graph[data-chart="Pods by phase"] .plot'
    wait(driver, lambda: driver.find_element(By.CSS_SELECTOR, plot).get_attribute("data-points"), "phase graph")
    before = int(driver.find_element(By.CSS_SELECTOR, plot).get_attribute("data-points"))
    wait(driver, lambda: int(driver.find_element(By.CSS_SELECTOR, plot).get_attribute("data-points")) >= before + 2,
         "two new points on the phase graph", timeout=30)
    after = int(driver.find_element(By.CSS_SELECTOR, plot).get_attribute("data-points"))
    pinned = driver.find_elements(By.CSS_SELECTOR, '.graph[data-chart^="count by (namespace)"] .plot')
    if not pinned:
        fail("pinned query has no graph")
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, '.graph[data-chart^="count by"] .glegend .item')) > 2,
         "pinned graph series", timeout=15)
    shot(driver, "graphs")
    print(f"graphs: points {before} -> {after} under churn", flush=True)

    # ---- dark scheme ------------------------------------------------------------------------
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    goto(driver, "#/overview")
    time.sleep(0.5)
    shot(driver, "overview-dark")
    goto(driver, "#/graphs")
    time.sleep(1)
    shot(driver, "graphs-dark")


if __name__ == "__main__":
    main()
