#!/usr/bin/env node
/**
 * Walks the referral wizard the way a person would, in the Microsoft 365
 * Agents Playground, in headless Debian Chromium (playwright-core; never a
 * browser download), and saves a full-page screenshot after each step to
 * test-artifacts/playground/NN-step.png.
 *
 *   node scripts/playground-walkthrough.mjs            against a running `npm start` (plays whoever it plays)
 *   node scripts/playground-walkthrough.mjs --start    starts scripts/dev.mjs itself with a fresh DATA_DIR,
 *                                                      switches users between sessions, stops it afterwards
 *
 * Options: --out DIR (default test-artifacts/playground), --url URL (default
 * http://127.0.0.1:56150), --chromium PATH (default /usr/bin/chromium or $CHROMIUM),
 * --html (also save each card's HTML next to its screenshot, for debugging selectors),
 * --keep-data (with --start: keep the temporary DATA_DIR to inspect the database afterwards).
 * The browser may reach loopback only: every other request is aborted (the
 * playground's three web fonts and one animation script then fail; cosmetic).
 *
 * Sessions (with --start; without it, only the referrer's):
 *   A. Megan Bowen (Northgate officer) opens the app once, so the bot stores her conversation: whoami.
 *   B. Alex Wilber (referrer): refer → "Is anyone in immediate danger?" No → About you (pressed
 *      empty first, to see the error state) → About the person → The concern → Awareness and
 *      consent → Check and submit (declaration, Submit referral) → "Referral received" with a
 *      PRV-YYYY-NNNNNN reference → My referrals; then refer → Yes → "Call 999 now" → Continue
 *      the referral → Save and finish later → drafts → Continue; help.
 *   C. Megan again: waits briefly for the new-referral notice, then `queue`, `case <reference>`,
 *      records the gateway assessment (Channel), two vulnerability assessments (the trend),
 *      an action for Isaiah, and reads the chronology.
 * Writes summary.json (each step's card text, the playground's activity log, checks, the bot's
 * warnings) and, with --start, dev.log (bot and playground output). Exits non-zero if a step or
 * a check fails (known playground bugs are reported but not fatal).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------- options ----------
const opts = { start: false, html: false, out: join(root, 'test-artifacts/playground'), url: 'http://127.0.0.1:56150', chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--start') opts.start = true;
  else if (a === '--out') opts.out = resolve(process.argv[++i]);
  else if (a === '--url') opts.url = process.argv[++i];
  else if (a === '--chromium') opts.chromium = process.argv[++i];
  else if (a === '--html') opts.html = true;
  else if (a === '--keep-data') opts.keepData = true;
  else {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
}
const LOOPBACK = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

// Clear our own previous output only (never the whole folder: --out may point somewhere shared).
mkdirSync(opts.out, { recursive: true });
for (const f of readdirSync(opts.out)) {
  if (/^\d{2}-.*\.(png|card\.html)$|^.*failure-card\.html$|^summary\.json$|^dev\.log$/.test(f)) rmSync(join(opts.out, f), { force: true });
}

const log = (msg) => console.log(`[walk] ${msg}`);

// ---------- optional: start the dev stack ----------
let dev;
let devLogPath;
let devLog;
let dataDir;
async function startDev(user) {
  dataDir ??= mkdtempSync(join(tmpdir(), 'sgd-walk-'));
  devLogPath ??= join(opts.out, 'dev.log');
  devLog ??= createWriteStream(devLogPath);
  log(`starting scripts/dev.mjs --user ${user} with DATA_DIR=${dataDir}`);
  dev = spawn(process.execPath, [join(root, 'scripts/dev.mjs'), '--user', user], { cwd: root, env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  const child = dev;
  await new Promise((res, rej) => {
    let seen = '';
    const timer = setTimeout(() => rej(new Error('dev.mjs not ready within 120 s')), 120_000);
    child.stdout.on('data', (b) => {
      devLog.write(b);
      seen += b;
      if (seen.includes('Agents Playground ready')) {
        clearTimeout(timer);
        res();
      }
    });
    child.stderr.on('data', (b) => devLog.write(b));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`dev.mjs exited early (code ${code}); see ${devLogPath}`));
    });
  });
}
async function stopDev() {
  if (!dev || dev.exitCode !== null || dev.signalCode !== null) return;
  const child = dev;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 25_000);
  await exited;
  clearTimeout(t);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await stopDev();
    process.exit(130);
  });
}

// ---------- browser ----------
const summary = { startedAt: new Date().toISOString(), steps: [], checks: [], errors: [], playgroundLog: [], blockedRequests: [], pageErrors: [] };
let shotNo = 0;
let page;

const cards = () => page.locator('.ac-adaptiveCard');
const lastCard = () => cards().last();

/** Grows the viewport so the newest card fits, scrolls it into view, and saves a full-page screenshot. */
async function shot(slug, note = '') {
  shotNo += 1;
  const name = `${String(shotNo).padStart(2, '0')}-${slug}.png`;
  const card = lastCard();
  let text = '';
  if ((await cards().count()) > 0) {
    const box = await card.boundingBox();
    const height = Math.min(Math.max(900, Math.ceil((box?.height ?? 0) + 380)), 6000);
    await page.setViewportSize({ width: 1280, height });
    await page.waitForTimeout(150);
    // Bring the newest message fully into view: scroll every scrollable ancestor to its end.
    await card.evaluate((el) => {
      el.scrollIntoView({ block: 'end' });
      for (let p = el.parentElement; p; p = p.parentElement) if (p.scrollHeight > p.clientHeight + 1) p.scrollTop = p.scrollHeight;
    });
    await page.waitForTimeout(250);
    text = await card.innerText();
    if (opts.html) {
      const html = await card.evaluate((el) => el.outerHTML.replace(/ class="[^"]*"/g, '').replace(/<svg.*?<\/svg>/g, '<svg/>'));
      writeFileSync(join(opts.out, name.replace(/\.png$/, '.card.html')), html);
    }
  }
  await page.screenshot({ path: join(opts.out, name), fullPage: true });
  summary.steps.push({ screenshot: name, note, cardText: text });
  if (text.includes('${')) check(false, `${name}: literal \${…} left in the card`);
  if (/Something needs attention/.test(text) && !slug.includes('error')) check(false, `${name}: bot answered with an error card`);
  log(`saved ${name}`);
  return text;
}

/** Records a check; `known` marks a failure that is the playground's, not the bot's (reported, not fatal). */
function check(ok, what, known = false) {
  summary.checks.push({ ok, what, ...(known ? { known } : {}) });
  if (!ok) log(`${known ? 'KNOWN PLAYGROUND ISSUE' : 'CHECK FAILED'}: ${what}`);
}

/** Waits until the newest card has this heading (cards are replaced in place by Action.Execute, or a new one is posted). */
async function waitForCard(heading, timeout = 15_000) {
  await lastCard().getByRole('heading', { name: heading, exact: true }).waitFor({ timeout });
  await page.waitForTimeout(300); // let the renderer settle (focus, banner)
  return lastCard();
}

async function say(text) {
  const composer = page.locator('[data-lexical-editor="true"]');
  await composer.click();
  await page.keyboard.type(text);
  await page.getByRole('button', { name: 'Send Message' }).click();
}

/**
 * Finds an input by its visible label, as a person would: the card's field
 * label is a <label for=…> naming the control (text box, radio group,
 * combobox, date picker, or a box of checkboxes).
 */
async function control(card, label) {
  const labelEl = card.locator('label.ac-richTextBlock', { has: page.getByText(label, { exact: true }) }).first();
  await labelEl.waitFor({ timeout: 5000 });
  const id = await labelEl.getAttribute('for');
  if (!id) throw new Error(`label "${label}" names no control`);
  return card.locator(`[id="${id}"]`);
}

/** Sets an input found by its label, whatever kind it renders as; value is a string, a list (checkboxes) or a boolean (toggle). */
async function setField(card, label, value) {
  const el = await control(card, label);
  const kind = await el.evaluate((e) => ({ tag: e.tagName.toLowerCase(), type: e.getAttribute('type'), role: e.getAttribute('role'), popup: e.getAttribute('aria-haspopup') }));
  if (kind.role === 'combobox' && kind.popup === 'dialog') {
    await pickDate(el, value);
  } else if (kind.role === 'radiogroup') {
    await el.getByRole('radio', { name: value, exact: true }).check();
  } else if (kind.role === 'combobox') {
    await el.click();
    await page.getByRole('option', { name: value, exact: true }).click();
    const shown = await el.inputValue();
    if (shown !== value) throw new Error(`"${label}" shows "${shown}", not "${value}"`);
  } else if (kind.tag === 'div') {
    // Input.ChoiceSet isMultiSelect: a box of checkboxes, each named by aria-label.
    for (const v of Array.isArray(value) ? value : [value]) await el.locator(`input[type="checkbox"][aria-label="${v.replaceAll('"', '\\"')}"]`).check();
  } else if (kind.type === 'checkbox') {
    if (value) await el.check();
    else await el.uncheck();
  } else {
    await el.fill(String(value));
  }
}

/**
 * Input.Date renders as a Fluent date picker that ignores typed text: open it,
 * go up to the year view, page back to the year, then pick month and day.
 */
async function pickDate(input, iso) {
  const [y, m, d] = iso.split('-').map(Number);
  const month = new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  await input.click();
  const dlg = page.getByRole('dialog', { name: 'Calendar' });
  await dlg.waitFor({ timeout: 5000 });
  await dlg.getByRole('button').first().click(); // "November 2026" → month view
  await dlg.getByRole('gridcell', { name: month, exact: true }).waitFor();
  await dlg.getByRole('button').first().click(); // "2026" → year view
  const year = dlg.getByRole('gridcell', { name: String(y), exact: true });
  for (let i = 0; i < 20 && (await year.count()) === 0; i++) {
    // The two arrows after the header: previous / next range.
    const current = Number((await dlg.getByRole('gridcell').first().textContent())?.trim());
    await dlg.getByRole('button').nth(current > y ? 1 : 2).click();
    await page.waitForTimeout(100);
  }
  await year.click();
  await dlg.getByRole('gridcell', { name: month, exact: true }).click();
  await dlg.getByRole('button', { name: `${d}, ${month}, ${y}`, exact: true }).click();
  await dlg.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => page.keyboard.press('Escape'));
  const shown = await input.inputValue();
  if (!shown) throw new Error(`date picker shows nothing after picking ${iso}`);
  summary.datePickerShows = shown;
}

async function press(card, name) {
  await card.getByRole('button', { name, exact: true }).click();
}

/** Opens a fresh browser on the playground, runs `fn`, and always closes it; a failure is recorded with a screenshot. */
async function session(label, fn) {
  const profile = mkdtempSync(join(tmpdir(), 'sgd-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: opts.chromium,
    headless: true,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // Loopback only: abort anything else (fonts on a CDN, telemetry).
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (LOOPBACK.test(u) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      summary.blockedRequests.push(u);
      return route.abort();
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (err) => summary.pageErrors.push(String(err)));
    // The playground's log panel arrives over a websocket: keep each activity and its HTTP status.
    page.on('websocket', (ws) => {
      if (!ws.url().includes('/_ws/log/')) return;
      ws.on('framereceived', (f) => {
        try {
          const m = JSON.parse(String(f.payload));
          const l = m.log ?? {};
          summary.playgroundLog.push({
            session: label,
            at: new Date(l.timestamp ?? Date.now()).toISOString(),
            activity: l.activityName,
            from: l.from,
            to: l.to,
            status: l.response?.status ?? l.response?.statusCode,
            invokeName: l.request?.body?.name,
            verb: l.request?.body?.value?.action?.verb,
            actionType: l.request?.body?.value?.action?.type,
            text: l.displayText,
          });
        } catch {
          /* not JSON */
        }
      });
    });
    await page.goto(opts.url, { waitUntil: 'load' });
    await page.locator('[data-lexical-editor="true"]').waitFor({ timeout: 30_000 });
    // The welcome card comes from the installationUpdate / conversationUpdate the page sends on load.
    await waitForCard('Welcome to Safeguard Desk', 20_000).catch(() => check(false, `${label}: no welcome card after opening the playground`));
    await fn();
    return true;
  } catch (err) {
    summary.errors.push(`${label}: ${String(err?.stack ?? err)}`);
    log(`FAILED in ${label}: ${err?.message ?? err}`);
    try {
      await shot(`${label}-failure`);
      writeFileSync(join(opts.out, `${label}-failure-card.html`), await lastCard().evaluate((e) => e.outerHTML));
    } catch {
      /* nothing to show */
    }
    return false;
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Megan (officer) opens the app: the bot keeps her conversation reference. */
async function officerFirstVisit() {
  await shot('officer-welcome');
  await say('whoami');
  await waitForCard('Who you are');
  await shot('officer-whoami');
}

/** Alex (referrer): one full referral, then the immediate-danger path. */
async function referrerWalk() {
  await shot('welcome');

  // ---------- a full referral ----------
  await say('refer');
  let card = await waitForCard('Immediate danger');
  await shot('step1-immediate-danger');
  await setField(card, 'Is anyone in immediate danger?', 'No');
  await shot('step1-answered-no');
  await press(card, 'Next');

  card = await waitForCard('About you');
  await shot('step2-about-you');
  // First press Next with the required fields empty, to see the errors.
  await press(card, 'Next');
  await lastCard().getByText('Please check the answers marked below.').waitFor({ timeout: 15_000 });
  card = lastCard();
  await page.waitForTimeout(300);
  await shot('step2-about-you-errors');
  await setField(card, 'Your name', 'Alex Wilber');
  await setField(card, 'Job title', 'Head of Year 9');
  await setField(card, 'Organisation', 'Northgate Academy');
  await setField(card, 'Sector', 'Education');
  await setField(card, 'Phone number', '020 7946 0000');
  await setField(card, 'Your relationship to the person', 'Form tutor');
  await shot('step2-about-you-filled');
  await press(card, 'Next');

  card = await waitForCard('About the person');
  await shot('step3-about-the-person');
  await setField(card, 'First name', 'Sam');
  await setField(card, 'Last name', 'Taylor');
  await setField(card, 'Date of birth', '2010-03-14');
  await setField(card, 'Gender', 'Not known');
  await setField(card, 'Address', '12 Example Road\nNorthgate');
  await setField(card, 'Postcode (optional)', 'NG1 1AA');
  await setField(card, 'Area', 'Northgate');
  await setField(card, 'School, college or employer (optional)', 'Northgate Academy');
  await setField(card, 'First language (optional)', 'English');
  await setField(card, 'Is an interpreter needed? (optional)', 'No');
  await shot('step3-about-the-person-filled');
  await press(card, 'Next');

  card = await waitForCard('The concern');
  await shot('step4-the-concern');
  await setField(card, 'What have you seen or heard?', 'Sam has been sharing videos that praise a violent group and told classmates the group is right.');
  await setField(card, 'When and where did this happen?', 'In form time at school over the last two weeks.');
  await setField(card, 'Type of concern', 'Other or unclear');
  await setField(card, 'Behaviours you have noticed (optional)', ['Having or sharing extremist material', 'Withdrawing from family or friends']);
  await setField(card, 'Has the person made threats of violence?', 'No');
  await setField(card, 'Do the parents or carers support this referral? (optional)', 'Not asked');
  await shot('step4-the-concern-filled');
  await press(card, 'Next');

  card = await waitForCard('Awareness and consent');
  await shot('step5-awareness-and-consent');
  await setField(card, 'Does the person know about this referral?', 'No');
  await setField(card, 'Has the person consented to the referral?', 'Not asked');
  await setField(card, 'Are the parents or carers aware?', 'Yes');
  await shot('step5-awareness-and-consent-filled');
  await press(card, 'Next');

  card = await waitForCard('Check and submit');
  await shot('step6-check-and-submit');
  await setField(card, 'Declaration', true);
  await shot('step6-declaration-ticked');
  await press(card, 'Submit referral');

  card = await waitForCard('Referral received');
  const ackText = await shot('referral-received');
  const ref = /PRV-\d{4}-\d{6}/.exec(ackText)?.[0];
  check(Boolean(ref), `acknowledgement shows a reference like PRV-2026-000001 (got ${ref ?? 'none'})`);
  summary.reference = ref;

  // The acknowledgement's "My referrals" button is an Action.Submit carrying {command}. (An imBack
  // would send nothing here: playground 0.2.28 throws "Cannot add property msTeams" on those.)
  const before = await cards().count();
  const errorsBefore = summary.pageErrors.length;
  await press(card, 'My referrals');
  const posted = await page
    .waitForFunction((n) => document.querySelectorAll('.ac-adaptiveCard').length > n, before, { timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  if (!posted) {
    const crashed = summary.pageErrors.slice(errorsBefore).some((e) => e.includes('msTeams'));
    check(false, `"My referrals" (Action.Submit {command}) sent nothing${crashed ? ': the playground threw "Cannot add property msTeams" (playground bug; works in Teams)' : ''}`, crashed);
    await say('my referrals');
  }
  await waitForCard('Your referrals').catch(() => check(false, '"my referrals" did not show the list'));
  const listText = await shot('my-referrals');
  check(Boolean(ref) && listText.includes(ref), 'my referrals lists the new reference');

  // ---------- someone is in immediate danger ----------
  await say('refer');
  card = await waitForCard('Immediate danger');
  await setField(card, 'Is anyone in immediate danger?', 'Yes');
  await shot('danger-answered-yes');
  await press(card, 'Next');
  card = await waitForCard('Call 999 now');
  await shot('danger-call-999');
  await press(card, 'Continue the referral');
  card = await waitForCard('About you');
  await shot('danger-continued-about-you');
  await press(card, 'Save and finish later');
  card = await waitForCard('Saved');
  await shot('danger-saved');
  await say('drafts');
  card = await waitForCard('Your unfinished referrals');
  await shot('drafts');
  await press(card, 'Continue'); // Action.Execute wizard.resume: the list is replaced by the step
  await waitForCard('About you');
  await shot('drafts-continued');
  await say('help');
  await waitForCard('What I can do');
  await shot('help');
}

/** Megan again: is the new-referral notice there, and can she open the case? */
async function officerAfterReferral() {
  const notice = await lastCard()
    .getByRole('heading', { name: 'New referral for Northgate' })
    .waitFor({ timeout: 12_000 })
    .then(() => true)
    .catch(() => false);
  summary.officerNoticeSeen = notice;
  if (notice) await shot('officer-notice');
  else log('no new-referral notice reached Megan (see summary.botWarnings for why)');
  if (!summary.reference) return;
  await say('queue');
  await waitForCard('Waiting for triage');
  await shot('officer-queue');
  await say(`case ${summary.reference}`);
  let card = await waitForCard(`Referral ${summary.reference}`);
  await shot('officer-case-view');

  // The gateway assessment: Channel opens a case owned by Megan.
  await press(card, 'Record gateway assessment');
  card = await waitForCard(`Gateway assessment for ${summary.reference}`);
  await setField(card, 'Outcome', 'Referred to the Channel panel');
  await setField(card, 'Rationale', 'Sustained engagement with extreme right-wing material and talk of violence; meets the threshold for the Channel panel.');
  await setField(card, 'Has contact been made with the person?', 'Yes');
  await shot('officer-triage-form');
  await press(card, 'Save');
  card = await waitForCard(`Case ${summary.reference}`);
  await shot('officer-case-opened');

  // Two vulnerability assessments: the card shows the trend.
  for (const [date, e, i, c] of [['2026-11-02', '1 – low', '1 – low', '0 – none'], ['2026-11-20', '2 – moderate', '1 – low', '1 – low']]) {
    await press(card, 'Record vulnerability');
    card = await waitForCard('Record a vulnerability assessment');
    await setField(card, 'Date assessed', date);
    await setField(card, 'Engagement with a group, cause or ideology', e);
    await setField(card, 'Intent to cause harm', i);
    await setField(card, 'Capability to cause harm', c);
    await setField(card, 'Engagement factors (optional)', ['Need for identity, meaning and belonging', 'Group influence and control']);
    if (date === '2026-11-20') await shot('officer-vulnerability-form');
    await press(card, 'Save');
    card = await waitForCard(`Case ${summary.reference}`);
  }
  const caseText = await shot('officer-case-trend');
  check(caseText.includes('Trend: rising'), 'case card shows a rising trend after 1 → 4');

  // An action for Isaiah, then the chronology.
  await press(card, 'Add action');
  card = await waitForCard('Add an action');
  await setField(card, 'What needs doing', 'Home visit with the family');
  await setField(card, 'Owner', 'Isaiah Langer');
  await setField(card, 'Due date', '2027-01-15');
  await press(card, 'Save');
  card = await waitForCard(`Case ${summary.reference}`);
  await shot('officer-case-action');
  await press(card, 'Chronology');
  await waitForCard(`Chronology of case ${summary.reference}`);
  await shot('officer-chronology');

  // What is due, and the reminder setting.
  await say('due');
  await waitForCard('Due for you');
  await shot('officer-due');
  await say('settings');
  card = await waitForCard('Your settings');
  await setField(card, 'Reminders of things due', 'Gather them into a morning digest at 8:00');
  await press(card, 'Save');
  await lastCard().getByText('Saved.').waitFor({ timeout: 10_000 });
  await shot('officer-settings');
}

/** Megan asks to move the case to Eastfield: the transfer form, then the case card saying it waits. */
async function officerTransfers() {
  if (!summary.reference) return;
  await say(`case ${summary.reference}`);
  let card = await waitForCard(`Case ${summary.reference}`);
  await press(card, 'Transfer to another area');
  card = await waitForCard(`Transfer ${summary.reference} to another area`);
  await setField(card, 'Move to', 'Eastfield');
  await setField(card, 'Why the case should move', 'The family moved to Eastfield at half term; the school there has taken him on.');
  await setField(card, 'The person’s new address', '12 Orchard Row, Eastfield EF1 2AB');
  await shot('officer-transfer-form');
  await press(card, 'Save');
  card = await waitForCard(`Case ${summary.reference}`);
  const text = await shot('officer-transfer-pending');
  check(text.includes('Transfer to Eastfield requested'), 'case card says the transfer was asked for');
}

/** Nestor (Eastfield's supervisor) finds it under `approvals`, opens the approval card and accepts it for Johanna. */
async function supervisorDecides() {
  if (!summary.reference) return;
  await say('approvals');
  let card = await waitForCard('Approvals');
  await shot('supervisor-approvals');
  await press(card, 'Open');
  card = await waitForCard(`Transfer of ${summary.reference}`);
  const pending = await shot('supervisor-approval-card');
  check(pending.includes('Waiting for a decision'), 'approval card shows the transfer pending');
  await setField(card, 'Who takes the case (needed to accept)', 'Johanna Lorenz');
  await press(card, 'Accept');
  // The pressed card is replaced in place; a notice (Johanna has not installed the app) may land below it.
  const decidedCard = cards().filter({ hasText: 'Now with: Johanna Lorenz' }).last();
  await decidedCard.waitFor({ timeout: 10_000 });
  await shot('supervisor-approval-decided');
  const buttonsLeft = await decidedCard.getByRole('button', { name: 'Accept', exact: true }).count();
  check(buttonsLeft === 0 && (await decidedCard.innerText()).includes('Accepted by Nestor Wilke'), 'decided card shows who decided and who took it, without the buttons');
}

// ---------- main ----------
let exit = 0;
try {
  if (opts.start) {
    await startDev('megan');
    await session('officer-first', officerFirstVisit);
    await stopDev();
    await startDev('alex');
    await session('referrer', referrerWalk);
    await new Promise((r) => setTimeout(r, 6000)); // let the outbox try its deliveries while Alex is played
    await stopDev();
    await startDev('megan');
    await session('officer-after', officerAfterReferral);
    await session('officer-transfer', officerTransfers);
    await stopDev();
    await startDev('nestor');
    await session('supervisor', supervisorDecides);
  } else {
    await session('referrer', referrerWalk);
  }
} catch (err) {
  summary.errors.push(String(err?.stack ?? err));
  log(String(err?.message ?? err));
} finally {
  await stopDev();
  if (dataDir && !opts.keepData) rmSync(dataDir, { recursive: true, force: true });
  else if (dataDir) log(`kept DATA_DIR ${dataDir}`);
  if (devLog) await new Promise((r) => devLog.end(r));
}

// What the bot logged at warn or above (pino JSON on stdout).
if (devLogPath) {
  const lines = readFileSync(devLogPath, 'utf8').split('\n');
  summary.botWarnings = lines
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter((l) => l && l.level >= 40);
  for (const w of summary.botWarnings.filter((w) => w.level >= 50)) check(false, `bot logged an error: ${w.msg}${w.err ? ` (${w.err.message})` : ''}`);
}

const execs = summary.playgroundLog.filter((l) => l.invokeName === 'adaptiveCard/action');
summary.actionExecute = {
  invokes: execs.length,
  verbs: [...new Set(execs.map((l) => l.verb))],
  note: execs.length ? 'Action.Execute arrives as an invoke activity named adaptiveCard/action (value.action.verb/data), answered in the HTTP response; the card is replaced in place.' : 'no adaptiveCard/action invokes seen',
};
summary.finishedAt = new Date().toISOString();
writeFileSync(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const failed = summary.checks.filter((c) => !c.ok && !c.known);
if (summary.errors.length || failed.length) exit = 1;
const known = summary.checks.filter((c) => !c.ok && c.known);
log(`${shotNo} screenshots in ${opts.out}; checks: ${summary.checks.filter((c) => c.ok).length} passed, ${failed.length} failed, ${known.length} known playground issue(s)${summary.errors.length ? `; ${summary.errors.length} session(s) stopped early` : ''}`);
if (summary.blockedRequests.length) log(`blocked ${summary.blockedRequests.length} non-loopback request(s) (fonts/CDN)`);
process.exit(exit);
