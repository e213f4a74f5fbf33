// The web UI in headless Chromium (Debian's package), driven by playwright-core.
// Run by the Rust test `browser::the_ui_works_in_a_real_browser`, which starts the platform and
// passes: UI (its URL), EMAIL / PASSWORD (an admin), API (the incidents service), TOKEN (a
// bearer token for it), FEED (a recorded provider payload with an active major incident),
// SHOTS (where screenshots go). The Rust side checks the mail and the webhook afterwards.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const { UI, EMAIL, PASSWORD, API, TOKEN, SHOTS, FEED } = process.env;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(SHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // A Content-Security-Policy violation or a script error shows up here. Error statuses the
  // journey provokes on purpose (a wrong password, forged forms) are logged too, and skipped.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

  // The public status page, anonymous, on a desktop and on a phone.
  await page.goto(`${UI}/status`);
  check((await page.textContent("h1.overall")).includes("All systems operational"), "the overall status");
  await page.screenshot({ path: `${SHOTS}/status.png`, fullPage: true });
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const phonePage = await phone.newPage();
  await phonePage.goto(`${UI}/status`);
  await phonePage.screenshot({ path: `${SHOTS}/status-phone.png`, fullPage: true });
  const scroll = await phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  check(scroll, "the status page fits a phone's width");
  await phone.close();

  // Sign-in failures: a wrong password, then a forged form.
  await page.goto(`${UI}/login`);
  await page.fill("#email", EMAIL);
  await page.fill("#password", "not the password");
  await page.click("main button[type=submit]");
  check((await page.textContent("[role=alert]")).includes("Wrong email or password."), "a wrong password is explained");
  await page.evaluate(() => { document.querySelector("input[name=csrf]").value = "forged"; });
  await page.fill("#password", PASSWORD);
  await page.click("main button[type=submit]");
  check((await page.textContent("[role=alert]")).includes("expired"), "a forged sign-in form is refused");

  // Sign in, declare an incident.
  await page.fill("#email", EMAIL);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  check(page.url() === `${UI}/incidents`, `signed in and sent to the incidents, not ${page.url()}: ${await page.textContent("main")}`);
  await page.click("text=Declare an incident");
  await page.fill("#title", "Browser-declared outage");
  await page.selectOption("#sev", "1");
  await page.fill("#services", "checkout");
  await page.click("main form button[type=submit]");
  await page.waitForURL(/\/incidents\/INC-/);
  const id = page.url().split("/incidents/")[1].split("?")[0];
  check((await page.textContent("h1")).includes("Browser-declared outage"), "the incident page");

  // The timeline updates live: an entry written elsewhere appears without a reload.
  const before = await page.locator("#timeline li").count();
  const posted = await fetch(`${API}/api/v1/incidents/${id}/timeline`, {
    method: "POST",
    headers: { "authorization": `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "note", message: "Written from another tab" }),
  });
  check(posted.ok, `the timeline entry was written (${posted.status})`);
  await page.waitForSelector("#timeline li.fresh >> text=Written from another tab", { timeout: 10000 });
  check((await page.locator("#timeline li").count()) === before + 1, "one new entry, appended live");

  // Change the status with the form; keyboard only.
  await page.focus("#status");
  await page.selectOption("#status", "mitigated");
  await page.fill("#reason", "rolled back");
  await page.press("#reason", "Enter");
  await page.waitForSelector(".status-mitigated");
  await page.screenshot({ path: `${SHOTS}/incident.png`, fullPage: true });

  // Assign to oneself (picked from the user list), announce, resolve.
  const me = await page.locator("#commander option", { hasText: "(admin)" }).first().getAttribute("value");
  await page.selectOption("#commander", me);
  await page.click("form[action$='/assign'] button[type=submit]");
  await page.waitForSelector("text=Commander set.");
  await page.fill("#announce", "Checkout is failing for some customers");
  await page.selectOption("#announce-state", "identified");
  await page.click("form[action$='/announce'] button[type=submit]");
  await page.waitForSelector("text=Announced on the public page.");
  await page.selectOption("#status", "resolved");
  await page.fill("#reason", "fixed");
  await page.click("form[action$='/status'] button[type=submit]");
  await page.waitForSelector(".status-resolved");

  // The postmortem: preview, save, publish.
  await page.fill("#pm-what_happened", "- Checkout failed\n- Payments returned 502");
  await page.fill("#pm-root_cause", "A bad deploy");
  await page.click("button[name=preview]");
  await page.waitForSelector(".preview li >> text=Payments returned 502");
  await page.click("form[action$='/postmortem'] button:not([name=preview])");
  await page.waitForSelector("text=Postmortem saved.");
  await page.click("form[action$='/publish'] button[type=submit]");
  await page.waitForSelector("text=Postmortem published.");

  // A provider outage replayed from a recorded payload raises an incident linked to its event.
  await page.goto(`${UI}/providers`);
  await page.fill("#p-name", "replayed");
  await page.fill("#p-url", FEED);
  await page.selectOption("#p-type", "json");
  await page.selectOption("#p-threshold", "major");
  await page.click("main form[action='/providers'] button[type=submit]");
  await page.waitForSelector("text=Watching replayed.");
  await page.click("form[action='/providers/replayed/refresh'] button[type=submit]");
  await page.waitForSelector("text=replayed: 1 new");
  await page.goto(`${UI}/incidents?q=${encodeURIComponent("replayed")}`);
  await page.click("tbody tr:has(.tag) a");
  await page.waitForSelector("text=raised from this provider event");

  // A CSRF refusal for a signed-in form.
  await page.goto(`${UI}/incidents/${id}`);
  await page.evaluate(() => { document.querySelector("form[action$='/note'] input[name=csrf]").value = "forged"; });
  await page.fill("#note", "should be refused");
  await page.click("form[action$='/note'] button[type=submit]");
  check((await page.textContent("h1")).includes("This form has expired"), "a forged form is refused");

  // Watch a catalogue provider by name; the page then shows it and the dependency graph.
  await page.goto(`${UI}/providers`);
  await page.fill("#p-name", "github");
  await page.click("main form[action='/providers'] button[type=submit]");
  await page.waitForSelector("text=Watching GitHub.");
  check(await page.isVisible("img.graph"), "the cause-and-effect graph is shown");
  const graphLoaded = await page.evaluate(() => document.querySelector("img.graph").naturalWidth > 0);
  check(graphLoaded, "the graph's SVG loads under the page's Content-Security-Policy");

  for (const [path, name] of [["/incidents", "incidents"], ["/providers", "providers"], ["/comms", "comms"], ["/admin/flags", "flags"]]) {
    await page.goto(`${UI}${path}`);
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  }
  await context.close();
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("browser journey passed");
