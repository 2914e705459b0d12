#!/usr/bin/env python3
"""End-to-end: a real browser (headless Chromium through WebDriver) drives the console and the
public pages the way people would. An enterprise signs up and market regulation verifies it; it
registers a product and applies for green food; an agriculture regulator approves; the public
verification page shows the certificate valid, its QR code decodes to the page's address, and
the product page's JSON-LD names the certificate. Screenshots of the main pages go to
target/screenshots/; any browser console error fails the run.

    python3 tests/e2e/console_flow.py target/debug/registry

Needs chromium and chromium-driver (Debian), and the Python packages selenium, zxing-cpp and
pillow (.ci/run installs them).
"""
import datetime
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait
import zxingcpp

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(body17):
    """A USCC with its check character (GB 32100-2015)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return body17 + USCC_CHARS[(31 - total % 31) % 31]


def gtin(body12):
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replaced(element):
    """True once the element has left the document. Newer Chromium sometimes reports a node of
    the replaced page as an inspector error rather than as a stale element; both mean gone."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error) or "No node with given id" in str(error):
            return True
        raise


class Flow:
    def __init__(self, binary):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix="registry-e2e-")
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": f"sqlite://{self.tmp}/e2e.db",
            "REGISTRY_BIND": f"127.0.0.1:{self.port}",
            "REGISTRY_PUBLIC_URL": self.base,
            "JWT_SECRET": "e2e-secret-e2e-secret-e2e-secret-0123456",
            "REGISTRY_PUBLIC_NOTICE_DAYS": "0",
            "RUST_LOG": "warn",
        })
        self.server = subprocess.Popen([os.path.abspath(binary), "serve", "--demo"], env=env, cwd=self.tmp,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(self.base + "/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        opts = webdriver.ChromeOptions()
        opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1400",
                    "--lang=zh-CN"]:
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.shots = os.path.join(os.getcwd(), "target", "screenshots")
        os.makedirs(self.shots, exist_ok=True)

    def close(self):
        try:
            self.driver.quit()
        finally:
            self.server.terminate()

    # -- helpers --------------------------------------------------------------------------
    def open(self, path):
        self.driver.get(self.base + path)
        self.check_console()

    def check_console(self):
        errors = [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        if errors:
            raise AssertionError(f"browser console errors on {self.driver.current_url}: {errors}\n"
                                 f"{self.text()}")

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(self.shots, f"{name}.png"))

    def fill(self, fields):
        for name, value in fields.items():
            el = self.driver.find_element(By.NAME, name)
            if el.tag_name == "select":
                Select(el).select_by_value(value)
            elif el.get_attribute("type") == "date":
                # Typing into a date control depends on the browser's locale; set the value.
                self.driver.execute_script("arguments[0].value = arguments[1]", el, value)
            else:
                el.clear()
                el.send_keys(value)

    def click(self, element):
        """Clicks something that loads a page, and waits until the new page has replaced this
        one: a click can return before the navigation it starts has finished."""
        element.click()
        WebDriverWait(self.driver, 20).until(lambda _driver: replaced(element))
        self.check_console()

    def submit(self, css="form button[type=submit]"):
        self.click(self.driver.find_element(By.CSS_SELECTOR, css))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def sign_in(self, username, password):
        self.open("/console/login")
        self.fill({"username": username, "password": password})
        self.submit()
        assert "/console/" in self.driver.current_url, self.driver.current_url

    def sign_out(self):
        self.open("/console/")
        self.click(self.driver.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button"))

    # -- the flow -------------------------------------------------------------------------
    def run(self):
        today = datetime.date.today()
        code = uscc("91632800MA7E2E00" + "1")
        self.open("/")
        self.shot("home")
        self.open("/console/signup")
        self.fill({
            "username": "e2e_goji", "password": "an e2e passphrase long enough",
            "enterprise.uscc": code, "enterprise.name": "端到端测试枸杞有限公司",
            "enterprise.legal_representative": "测试人", "enterprise.region_code": "632800",
            "enterprise.address": "德令哈市测试路 1 号", "enterprise.contact_phone": "0977-8200000",
            "enterprise.contact_email": "e2e@example.com", "enterprise.scale": "small",
        })
        self.driver.find_element(By.CSS_SELECTOR, "input[name=sector][value=food]").click()
        self.shot("signup")
        self.submit()
        assert "registry_signup" not in self.driver.page_source
        assert self.driver.find_elements(By.CSS_SELECTOR, "p.ok"), self.text()

        # Market regulation verifies it from its queue.
        self.sign_in("regulator", "regulator-demo-2026")
        row = [r for r in self.driver.find_elements(By.CSS_SELECTOR, "tr") if code in r.text]
        assert row, self.text()
        self.click(row[0].find_element(By.CSS_SELECTOR, "button"))
        self.sign_out()

        # The enterprise registers a product and applies for green food.
        self.sign_in("e2e_goji", "an e2e passphrase long enough")
        self.shot("console-enterprise")
        self.open("/console/products/new")
        barcode = gtin("693900127777")
        self.fill({"name": "端到端枸杞干果", "brand": "端到端", "gtin": barcode, "category": "goji",
                   "origin_region_code": "632800", "ingredients": "枸杞 100%", "sector": "food"})
        live = self.driver.find_element(By.ID, "gtin-live").text
        assert live, "the GTIN is checked as it is typed"
        self.shot("product-form")
        self.submit()
        assert "/p/" in self.driver.current_url, self.driver.current_url
        product_url = self.driver.current_url
        product_id = product_url.rsplit("/", 1)[1]
        # It declares the standard the product is made to, chosen from the catalogue.
        self.open(f"/console/products/{product_id}/standards?q=19630")
        self.submit("form[action$='/standards'] input[value='GB/T 19630-2019'] ~ button")
        assert "GB/T 19630-2019" in self.driver.find_element(By.CSS_SELECTOR, "table").text, self.text()
        self.shot("standards")
        self.open("/console/applications/new?kind=green_food")
        number = "LB-18-26" + today.strftime("%m%d") + "4242"
        self.fill({"certificate_number": number,
                   "issued_on": (today - datetime.timedelta(days=5)).strftime("%Y-%m-%d"),
                   "expires_on": (today + datetime.timedelta(days=700)).strftime("%Y-%m-%d"),
                   "scope": "枸杞干果"})
        self.shot("apply")
        self.submit()
        assert "/console/applications/" in self.driver.current_url, self.text()
        application = self.driver.current_url
        self.sign_out()

        # An agriculture regulator reviews and approves.
        self.sign_in("agri_regulator", "agri-regulator-demo-2026")
        self.shot("console-regulator")
        self.driver.get(application)
        self.click(self.driver.find_element(By.CSS_SELECTOR, "button[value=start_review]"))
        self.driver.find_element(By.NAME, "reason").send_keys("材料齐全")
        self.click(self.driver.find_element(By.CSS_SELECTOR, "button[value=approve]"))
        self.shot("application")
        # The review page links the record it created, with what the regulator may do to it.
        self.click(self.driver.find_element(By.CSS_SELECTOR, "a[href^='/console/records/']"))
        assert self.driver.find_elements(By.CSS_SELECTOR, "button[value=suspend]"), self.text()
        self.shot("console-record")
        self.sign_out()

        # An admin sees the accounts, the new enterprise user among them, and the API clients.
        self.sign_in("admin", "admin-demo-2026")
        self.open("/console/users")
        assert "e2e_goji" in self.text(), self.text()
        self.shot("console-users")
        self.open("/console/api-clients")
        self.fill({"name": "端到端 App", "contact": "e2e@example.com"})
        self.submit("form[action='/console/api-clients'] button")
        assert self.driver.find_element(By.CSS_SELECTOR, "code.key").text.startswith("rk_")
        self.shot("console-api-clients")
        self.sign_out()

        # The public sees it valid; the QR code leads to the page; the product page says so.
        self.open(f"/v/{number}")
        assert self.driver.find_elements(By.CSS_SELECTOR, ".status-valid"), self.text()
        self.shot("verify")
        qr = self.driver.find_element(By.CSS_SELECTOR, "aside.qr img")
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot_as_png)))
        assert decoded and decoded[0].text == f"{self.base}/v/{number}", decoded
        self.driver.get(product_url)
        self.check_console()
        ld = self.driver.find_element(By.CSS_SELECTOR, "script[type='application/ld+json']")
        doc = json.loads(ld.get_attribute("innerHTML"))
        assert doc["@type"] == "Product"
        assert any(c["certificationIdentification"] == number for c in doc["hasCertification"]), doc
        self.shot("product")
        print(f"e2e: passed; screenshots in {self.shots}")


if __name__ == "__main__":
    flow = Flow(sys.argv[1] if len(sys.argv) > 1 else "target/debug/registry")
    try:
        flow.run()
    finally:
        flow.close()
