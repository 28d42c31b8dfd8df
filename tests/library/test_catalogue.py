"""The static HTML model catalogue: content, escaping, atomic writing, and a real browser.

The browser test drives headless Chromium through selenium and chromedriver
(Debian packages ``chromium`` and ``chromium-driver``). Without them it is
skipped, unless ``SKMDL_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where it fails.
Its screenshots go to ``$SKMDL_TEST_ARTIFACTS`` or ``test-artifacts/``.
"""

import json
import os
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from skmdl.library import ModelLibrary
from skmdl.library.catalogue import write_catalogue
from skmdl.library.library import index_entry, write_index

REPO = Path(__file__).resolve().parents[2]

#: values of a hostile card: markup in every kind of place it could land
EVIL_PROPERTY = "<script>window.pwned = 1</script> toy"
EVIL_UNIT = '"><img src=x onerror="window.pwned = 2">'
EVIL_CLEANING = "</td></tr></table><b id=injected>drop & keep</b>"


class _Catalogue(HTMLParser):
    """Model rows, card rows, their attributes and the tags of a catalogue page."""

    def __init__(self, text):
        super().__init__()
        self.models, self.cards, self.tags = [], {}, []
        self._card = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        classes = (attrs.get("class") or "").split()
        if tag == "tr" and "model" in classes:
            self.models.append(attrs)
        elif tag == "tr" and "card-row" in classes:
            self._card = attrs["id"][len("card-"):]
            self.cards[self._card] = ""

    def handle_endtag(self, tag):
        if tag == "tr":
            self._card = None

    def handle_data(self, data):
        if self._card is not None:
            self.cards[self._card] += data


@pytest.fixture(scope="module")
def default_catalogue(tmp_path_factory):
    lib = ModelLibrary.default()
    path = write_catalogue(lib, tmp_path_factory.mktemp("catalogue") / "site")
    return lib, path


@pytest.fixture(scope="module")
def evil_library(tmp_path_factory):
    """Two models of the default library, the first card holding markup in its text fields."""
    source = ModelLibrary.default()
    root = tmp_path_factory.mktemp("evil") / "lib"
    entries = []
    for i, model_id in enumerate(source.ids[:2]):
        folder = source.entry(model_id)["path"]
        shutil.copytree(source.artifact_path(model_id), root / folder)
        if i == 0:
            card_path = root / folder / "card.json"
            card = json.loads(card_path.read_text())
            card.update(property=EVIL_PROPERTY, unit=EVIL_UNIT)
            card["training"]["cleaning"] = EVIL_CLEANING
            card_path.write_text(json.dumps(card))
        entries.append(index_entry(root, folder))
    write_index(root, entries, name="<i>evil</i> library")
    return ModelLibrary(root)


# ------------------------------------------------------------------ content
def test_every_model_has_a_row_and_a_full_card(default_catalogue):
    lib, path = default_catalogue
    assert path.name == "index.html" and path.parent.name == "site"
    page = _Catalogue(path.read_text(encoding="utf-8"))
    assert [m["data-id"] for m in page.models] == lib.ids
    assert len(page.models) == len(lib.search()) > 0 and sorted(page.cards) == lib.ids
    for model_id in (lib.ids[0], lib.ids[-1]):
        card, text = lib.card(model_id), page.cards[model_id]
        for value in (card["property"], card["training"]["cleaning"],
                      card["training"]["dataset_sha256"], card["architecture"]["activation"],
                      f"{card['metrics']['r2']:.6g}", *lib.entry(model_id)["sha256"].values()):
            assert str(value) in text, (model_id, value)


def test_page_is_self_contained(default_catalogue):
    _, path = default_catalogue
    text = path.read_text(encoding="utf-8")
    tags = _Catalogue(text).tags
    assert not [t for t, a in tags if t in ("link", "img", "iframe") or "src" in a]
    assert "@import" not in text and "url(" not in text
    assert [t for t, _ in tags].count("script") == 1 and [t for t, _ in tags].count("style") == 1
    assert os.listdir(path.parent) == ["index.html"]


def test_values_are_html_escaped(evil_library, tmp_path):
    path = write_catalogue(evil_library, tmp_path / "evil")
    text = path.read_text(encoding="utf-8")
    assert "<script>window" not in text and "<img" not in text and "<b id" not in text
    assert "<i>evil" not in text and "&lt;i&gt;evil&lt;/i&gt; library" in text
    page = _Catalogue(text)
    assert [t for t, _ in page.tags].count("script") == 1
    assert not [t for t, _ in page.tags if t in ("img", "b", "i")]
    evil = page.models[0]
    assert evil["data-property"] == EVIL_PROPERTY  # the attribute holds the value, unchanged
    assert EVIL_PROPERTY in page.cards[evil["data-id"]]
    assert EVIL_CLEANING in page.cards[evil["data-id"]]
    assert EVIL_UNIT in page.cards[evil["data-id"]]


# ------------------------------------------------------------------ atomic writing
def test_failure_while_rendering_leaves_no_catalogue(evil_library, tmp_path, monkeypatch):
    original, calls = ModelLibrary.card, []

    def failing_card(self, model_id):
        calls.append(model_id)
        if len(calls) == 2:
            raise OSError("disk went away")
        return original(self, model_id)

    monkeypatch.setattr(ModelLibrary, "card", failing_card)
    with pytest.raises(OSError, match="disk went away"):
        write_catalogue(evil_library, tmp_path / "new" / "site")
    assert not (tmp_path / "new" / "site").exists()


def test_failed_rename_of_a_new_folder_leaves_nothing(evil_library, tmp_path, monkeypatch):
    def broken_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "rename", broken_rename)
    with pytest.raises(OSError, match="rename failed"):
        write_catalogue(evil_library, tmp_path / "site")
    assert os.listdir(tmp_path) == []  # neither the folder nor its temporary


def test_failed_replace_keeps_the_old_catalogue(evil_library, tmp_path, monkeypatch):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("old catalogue")
    (out / "notes.txt").write_text("mine")
    real_replace = os.replace

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        write_catalogue(evil_library, out)
    assert sorted(os.listdir(out)) == ["index.html", "notes.txt"]
    assert (out / "index.html").read_text() == "old catalogue"

    monkeypatch.setattr(os, "replace", real_replace)
    path = write_catalogue(evil_library, out)
    assert sorted(os.listdir(out)) == ["index.html", "notes.txt"]
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (out / "notes.txt").read_text() == "mine"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


# ------------------------------------------------------------------ browser
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _find(path, name):
    return path if os.access(path, os.X_OK) else shutil.which(name)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by chromedriver, with a fresh profile."""
    required = os.environ.get("SKMDL_REQUIRE_BROWSER") == "1"
    chromium = _find(CHROMIUM, "chromium")
    driver_path = _find(CHROMEDRIVER, "chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        chromium = None
    if not (chromium and driver_path):
        why = "the browser test needs selenium, chromium and chromedriver"
        if required:
            pytest.fail(f"{why} (SKMDL_REQUIRE_BROWSER=1)")
        pytest.skip(why)
    profile = tempfile.mkdtemp(prefix="skmdl-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1600,1100"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("SKMDL_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def visible_ids(driver):
    """Ids of the model rows the page actually shows (laid out, not hidden)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('tr.model'))"
        ".filter(r => r.getClientRects().length > 0).map(r => r.dataset.id);")


def save_screenshot(driver, name) -> Path:
    from PIL import Image

    path = artifacts_dir() / name
    assert driver.save_screenshot(str(path))
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] >= 1000 and im.size[1] >= 600
        colours = im.convert("RGB").resize((200, 150)).getcolors(maxcolors=200 * 150)
    assert path.stat().st_size > 20_000 and len(colours) > 50  # not a blank page
    return path


def js_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_catalogue_in_a_browser(browser, default_catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    lib, path = default_catalogue
    browser.get(path.as_uri())
    assert browser.title.startswith("Model catalogue")
    n_models = len(lib.search())
    assert visible_ids(browser) == lib.ids and len(lib.ids) == n_models
    count = browser.find_element(By.ID, "count")
    assert count.text == f"{n_models} of {n_models} models"

    # search box: exactly the models ModelLibrary.search(text=...) finds
    browser.find_element(By.ID, "search").send_keys("bulk modulus")
    bulk = lib.search(text="bulk modulus")["id"].tolist()
    assert 0 < len(bulk) < n_models
    assert set(lib.search(text="bulk modulus")["kind"]) != {"inorganic"}
    assert visible_ids(browser) == bulk
    assert count.text == f"{len(bulk)} of {n_models} models"

    # kind filter, then minimum R², on top of the search
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("inorganic")
    assert visible_ids(browser) == lib.search(text="bulk modulus", kind="inorganic")["id"].tolist()
    browser.find_element(By.ID, "min-r2").send_keys("0.9")
    expected = lib.search(text="bulk modulus", kind="inorganic", min_r2=0.9)["id"].tolist()
    assert 0 < len(expected) < len(bulk) and visible_ids(browser) == expected

    # clear, then the property filter alone
    browser.find_element(By.ID, "reset").click()
    assert visible_ids(browser) == lib.ids
    Select(browser.find_element(By.ID, "filter-property")).select_by_value("band gap (OQMD)")
    assert visible_ids(browser) == lib.search(property="band gap (OQMD)")["id"].tolist()
    browser.find_element(By.ID, "reset").click()

    # sortable columns: R² descending after two clicks, blanks (none here) last
    Select(browser.find_element(By.ID, "filter-kind")).select_by_value("polymer")
    polymers = lib.search(kind="polymer")
    header = browser.find_element(By.CSS_SELECTOR, "th button[data-col='11']")
    assert header.text == "R²"
    header.click()
    assert visible_ids(browser) == polymers.sort_values("r2", kind="stable")["id"].tolist()
    header.click()
    by_r2 = polymers.sort_values("r2", ascending=False, kind="stable")["id"].tolist()
    assert visible_ids(browser) == by_r2
    assert browser.find_element(By.XPATH, "//th[button[@data-col='11']]").get_attribute(
        "aria-sort") == "descending"
    save_screenshot(browser, "catalogue-table.png")

    # open the card of the best polymer model
    best = by_r2[0]
    card_row = browser.find_element(By.ID, f"card-{best}")
    assert not card_row.is_displayed()
    button = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{best}'] button.open")
    button.click()
    assert card_row.is_displayed() and button.get_attribute("aria-expanded") == "true"
    card = lib.card(best)
    text = card_row.text
    assert card["property"] in text and card["training"]["cleaning"] in text
    assert lib.entry(best)["sha256"]["weights"] in text and "Architecture" in text
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(
        By.CSS_SELECTOR, f"tr[data-id='{best}']"))
    save_screenshot(browser, "catalogue-card.png")
    # a filter that hides the model hides its open card too
    browser.find_element(By.ID, "search").send_keys("no such model")
    assert visible_ids(browser) == [] and not card_row.is_displayed()
    assert browser.find_element(By.ID, "empty").is_displayed()
    assert js_errors(browser) == []


def test_markup_in_a_card_does_not_run_in_a_browser(browser, evil_library, tmp_path):
    from selenium.webdriver.common.by import By

    path = write_catalogue(evil_library, tmp_path / "evil")
    browser.get(path.as_uri())  # an alert or script would surface here or below
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.ID, "injected")
    evil_id = min(evil_library.ids)
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{evil_id}']")
    assert row.find_elements(By.TAG_NAME, "td")[1].text == EVIL_PROPERTY.strip()
    row.find_element(By.CSS_SELECTOR, "button.open").click()
    assert EVIL_CLEANING in browser.find_element(By.ID, f"card-{evil_id}").text
    browser.find_element(By.ID, "search").send_keys("<script>")
    assert visible_ids(browser) == [evil_id]
    assert browser.execute_script("return window.pwned === undefined")
    assert js_errors(browser) == []
