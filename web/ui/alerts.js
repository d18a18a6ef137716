// What makes sure a knock is not missed while the office runs: a ring tone while a knock rings,
// a bell in the tab's title, and a desktop notification (Notification API) when the tab is in the
// background — for a ringing knock and for a knock that was only noted (do-not-disturb). Nothing
// here reaches a server: the notifications are the browser's own, made by this page.

/**
 * @typedef {import('/live/live-office.js').Office} Office
 */

/** In front of the tab's title while a knock rings. */
export const BELL = '🔔 ';

/** Whether the user asked this browser not to offer desktop notifications again. */
const DECLINED_KEY = 'bureau.notifications.declined';

/**
 * Starts the alerts for a running office.
 * @param {Office} office
 */
export function mountAlerts(office) {
  /** @type {{stop: () => void}|null} */
  let tone = null;
  let notedCount = office.knocks.length;
  /** @type {string} */
  let ringingId = '';

  office.onChange((topic) => {
    if (topic === 'call') {
      const call = office.call;
      const ringing = call && call.dir === 'in' && call.state === 'ringing' ? call : null;
      if (ringing && ringingId !== ringing.id) {
        ringingId = ringing.id;
        tone?.stop();
        tone = ringTone();
        setBell(true);
        notify(`${ringing.name} is knocking`, ringing.forUserId ? `On the door of ${office.nameOf(ringing.forUserId)}, for whom you stand in.` : 'Open Bureau to answer.', `ring-${ringing.id}`);
      } else if (!ringing && ringingId) {
        ringingId = '';
        tone?.stop();
        tone = null;
        setBell(false);
      }
    }
    if (topic === 'knocks') {
      const newest = office.knocks[0];
      if (office.knocks.length > notedCount && newest && newest.why === 'dnd') {
        notify(`${newest.name} knocked`, 'You did not want to be disturbed: nothing rang. Call back from your office page.', `knock-${newest.at}`);
      }
      notedCount = office.knocks.length;
    }
  });
}

/**
 * Whether this page may offer to turn desktop notifications on (the browser has the API, the
 * user has not answered yet, and has not said no here).
 * @returns {boolean}
 */
export function mayOfferNotifications() {
  return 'Notification' in window && Notification.permission === 'default' && localStorage.getItem(DECLINED_KEY) !== '1';
}

/**
 * Asks the browser for permission to show desktop notifications (from a click: browsers ask
 * only then).
 * @returns {Promise<NotificationPermission|'unsupported'>}
 */
export async function askForNotifications() {
  if (!('Notification' in window)) return 'unsupported';
  return Notification.requestPermission();
}

/** The user does not want the offer again in this browser. */
export function declineNotifications() {
  localStorage.setItem(DECLINED_KEY, '1');
}

/**
 * A desktop notification, only while the tab is in the background (in front, the page shows it).
 * @param {string} title
 * @param {string} body
 * @param {string} tag Replaces an earlier notification of the same tag.
 */
function notify(title, body, tag) {
  if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  const n = new Notification(title, { body, tag, icon: '/favicon.svg' });
  n.onclick = () => {
    window.focus();
    n.close();
  };
}

/**
 * Puts the bell in front of the tab's title, or takes it away.
 * @param {boolean} on
 */
function setBell(on) {
  const bare = document.title.startsWith(BELL) ? document.title.slice(BELL.length) : document.title;
  document.title = on ? BELL + bare : bare;
}

/**
 * A ring tone made with Web Audio (no sound file to fetch): two short tones every two seconds
 * until stopped. Silent where the browser allows no sound yet (no click on the page so far).
 * @returns {{stop: () => void}}
 */
function ringTone() {
  /** @type {AudioContext|null} */
  let context = null;
  try {
    context = new AudioContext();
  } catch {
    return { stop: () => {} };
  }
  const ctx = context;
  const beep = () => {
    for (const [offset, freq] of [[0, 880], [0.25, 660]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + offset);
      osc.stop(ctx.currentTime + offset + 0.22);
    }
  };
  beep();
  const timer = setInterval(beep, 2000);
  return {
    stop: () => {
      clearInterval(timer);
      void ctx.close().catch(() => {});
    },
  };
}
