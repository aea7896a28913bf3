"""The web control page in a real browser: Debian's chromium, headless,
through selenium and chromium-driver, against a running headless show (the
window's per-frame path and control session, wired as the Stage menu wires it).

Needs `chromium` and `chromium-driver` (scripts/setup.sh test installs them).
HAMBAJUBA_WEB_SCREENSHOT=docs/web-phone.png also writes the phone screenshot there.
"""
from __future__ import annotations

import os
import shutil
import time

import pytest
from web_show import TOKEN, RunningShow

CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = {"width": 390, "height": 844, "pixelRatio": 2}

pytestmark = pytest.mark.skipif(not (os.path.exists(CHROMEDRIVER) and shutil.which("chromium")),
                                reason="needs chromium and chromium-driver (scripts/setup.sh test)")


def browser(profile, phone: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    if phone:
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    # the driver named explicitly: Selenium Manager would try the network otherwise
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def show():
    s = RunningShow().start()
    recalls = []
    s.session.recall_listeners.append(lambda name: recalls.append((name, s.session.t,
                                                                  s.session.fade.start_t)))
    s.recalls = recalls
    yield s
    s.close()


@pytest.fixture
def page(show, tmp_path):
    driver = browser(tmp_path / "profile")
    yield driver
    driver.quit()


def wait_for(cond, timeout=15.0, what="", seen=None):
    """seen(): what the page and the show held, said when the wait fails."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f" ({seen()})" if seen else ""))


def shown_bpm(text: str) -> float | None:
    """The page's "133.3 BPM" (or "— BPM" before a status came) as a number."""
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def test_the_page_plays_the_running_show(show, page, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page.get(show.url + f"/?token={TOKEN.decode()}")
    by_id = lambda i: page.find_element(By.ID, i)
    wait_for(lambda: page.find_elements(By.ID, "fader-knob.value"), what="the faders")
    wait_for(lambda: by_id("conn").text == "live", what="the WebSocket")
    wait_for(lambda: page.execute_script("return document.getElementById('preview').naturalWidth"),
             what="the preview")

    # a fader: the param changes in the first frame whose drain sees the message
    fader = by_id("fader-knob.value")
    with show.lock:
        posted, before = show.session.inbox.posted(), show.show.model.param_value("knob", "value")
    h = fader.size["height"]
    ActionChains(page).move_to_element_with_offset(fader, 0, -int(h * 0.3)).click().perform()
    wait_for(lambda: show.value("knob", "value") != before, what="knob.value to move")
    with show.lock:
        log = list(show.log)
    first = next(i for i, row in enumerate(log) if row[1] > posted)
    assert log[first][3] != before, "the fader's move missed its frame"
    moved = log[first][3]
    assert 0.3 < moved <= 1.0  # the top part of a -1..1 fader

    # a scene button with quantise "beat": the fade starts on the next beat
    Select(by_id("when")).select_by_visible_text("beat")
    page.find_element(By.CSS_SELECTOR, 'button[data-scene="loud"]').click()
    wait_for(lambda: show.recalls, what="the recall")
    name, t_press, start = show.recalls[0]
    grid = show.session.grid
    assert name == "loud" and start == pytest.approx(grid.start_of("beat", t_press))
    assert t_press < start <= t_press + 60.0 / grid.bpm + 1e-6
    wait_for(lambda: show.value("knob", "value") == 0.75, what="the scene")
    with show.lock:
        log = list(show.log)
    assert all(v != 0.75 for _, _, t, v in log if t_press <= t < start)
    assert next(v for _, _, t, v in log if t >= start) == 0.75

    # tap tempo: the BPM changes (and the page's status line says so)
    assert show.session.tempo.bpm is None
    for _ in range(4):
        by_id("tap").click()
        time.sleep(0.35)
    wait_for(lambda: show.session.tempo.bpm is not None, what="tap tempo")
    # the tapped tempo itself, not just a change (taps 0.5 s apart would read the grid's 120.0)
    tapped = lambda: abs((shown_bpm(by_id("bpm").text) or 0.0) - show.session.tempo.bpm) < 0.06
    wait_for(tapped, what="the tapped BPM on the page",
             seen=lambda: f"page {by_id('bpm').text!r}, {by_id('conn').text}; tapped "
                          f"{show.session.tempo.bpm:.2f}; status {show.web.board.status[1]['bpm']}; "
                          f"pages {len(show.web.clients)}, let go {show.web.feed.let_go}; "
                          f"show thread alive {show.thread.is_alive()}")

    # feature search, select, then assign to a sink
    box = by_id("search")
    box.send_keys("77")
    row = wait_for(lambda: page.find_elements(By.CSS_SELECTOR, '#rows li[data-block="up.0.0"]'),
                   what="search rows")[0]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()
    assert show.value("sink2", "feature_id") == 9  # selecting alone changes nothing
    Select(by_id("sink")).select_by_value("sink2")
    by_id("assign").click()
    wait_for(lambda: show.value("sink2", "feature_id") == 77, what="the assignment")
    assert show.value("sink2", "block") == "up.0.0"

    # the XY pad takes two params (default: the two pinned ones)
    assert Select(by_id("xy-x")).first_selected_option.text == "sink.strength"
    assert Select(by_id("xy-y")).first_selected_option.text == "knob.value"
    pad = by_id("xy")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    w, h = pad.size["width"], pad.size["height"]
    ActionChains(page).move_to_element_with_offset(pad, int(w * 0.3), -int(h * 0.3)).click().perform()
    wait_for(lambda: show.value("sink", "strength") != 0.0, what="the XY pad")
    assert show.value("sink", "strength") == pytest.approx(240.0, abs=16.0)  # x 0.8 of -400..400
    assert show.value("knob", "value") == pytest.approx(0.6, abs=0.04)  # y 0.8 of -1..1

    # knobs instead of faders: drag one up
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", by_id("knobs"))
    by_id("knobs").click()
    k = wait_for(lambda: page.find_elements(By.ID, "knob-knob.value"), what="the knobs")[0]
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", k)
    was = show.value("knob", "value")
    ActionChains(page).click_and_hold(k).move_by_offset(0, -40).move_by_offset(0, -20).release().perform()
    wait_for(lambda: show.value("knob", "value") > was + 0.2, what="the knob")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", by_id("knobs"))
    by_id("knobs").click()  # back to faders for the picture

    page.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    shot = os.environ.get("HAMBAJUBA_WEB_SCREENSHOT") or str(tmp_path / "web-phone.png")
    assert page.save_screenshot(shot)


def test_without_the_token_the_page_and_websocket_are_refused(show, tmp_path):
    driver = browser(tmp_path / "stranger", phone=False)
    try:
        driver.get(show.url + "/")
        assert "a token is needed" in driver.page_source
        got = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const out = {};
            Promise.all(["/", "/static/app.js", "/api/controls", "/frame.jpg"].map(
                (p) => fetch(p).then((r) => { out[p] = r.status; })))
            .then(() => {
                const ws = new WebSocket(`ws://${location.host}/ws`);
                ws.onopen = () => { out.ws = "open"; done(out); };
                ws.onclose = () => { out.ws = out.ws || "refused"; done(out); };
            });""")
        assert got == {"/": 401, "/static/app.js": 401, "/api/controls": 401, "/frame.jpg": 401,
                       "ws": "refused"}
        driver.get(show.url + "/?token=wrong-wrong-wrong-wrong")
        assert "forbidden" in driver.page_source
    finally:
        driver.quit()
    assert show.session.inbox.posted() == 0


def test_the_page_says_when_it_is_disconnected_and_reconnects_by_itself(show, page):
    from selenium.webdriver.common.by import By

    page.get(show.url + f"/?token={TOKEN.decode()}")
    by_id = lambda i: page.find_element(By.ID, i)
    wait_for(lambda: by_id("conn").text == "live", what="the WebSocket")
    assert not by_id("offline").is_displayed()
    show.stop_web()  # Stage > Web control: stop
    wait_for(lambda: by_id("offline").is_displayed() and by_id("conn").text == "offline",
             what="the disconnected banner")
    show.start_web()  # and start again on the same port: the page finds it by itself
    wait_for(lambda: by_id("conn").text == "live" and not by_id("offline").is_displayed(),
             timeout=20, what="the reconnect")
    with show.lock:
        before = show.session.inbox.posted()
    by_id("tap").click()
    wait_for(lambda: show.session.inbox.posted() > before, what="a tap after the reconnect")
