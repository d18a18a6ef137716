// The default privacy policy, terms of use and local-storage notice of a self-hosted Bureau, as
// data without DOM (pages/legal.js renders them). They are written for the usual deployment —
// one organisation running Bureau for its own people — and name that organisation as the
// controller. A later version keeps an edited copy per organisation on the server; until then
// every Bureau shows these texts.

/**
 * @typedef {object} LegalSection
 * @property {string} heading
 * @property {string[]} [paragraphs]
 * @property {string[]} [items] A bullet list after the paragraphs.
 * @property {string[]} [after] Paragraphs after the list.
 */

/**
 * @typedef {object} LegalDocument
 * @property {'privacy'|'terms'|'local-storage'} kind
 * @property {string} title
 * @property {string} summary One sentence shown under the title.
 * @property {string} version Changes whenever the text changes (shown; accepted at registration).
 * @property {LegalSection[]} sections
 */

/** @typedef {'privacy'|'terms'|'local-storage'} LegalKind */

/** The address of each document in the app. */
export const LEGAL_PATHS = /** @type {const} */ ({ privacy: '/privacy', terms: '/terms', 'local-storage': '/local-storage' });

const VERSION = '2026-12-files';

/**
 * @param {string} [orgName]
 * @returns {string}
 */
function controller(orgName) {
  return orgName ? `${orgName}, the organisation that runs this Bureau` : 'the organisation that runs this Bureau';
}

/**
 * The privacy policy.
 * @param {string} [orgName] The organisation's name, when known.
 * @returns {LegalDocument}
 */
export function privacyPolicy(orgName) {
  const who = controller(orgName);
  return {
    kind: 'privacy',
    title: 'Privacy policy',
    summary: 'What this Bureau stores about you, why, for how long, and the rights you have.',
    version: VERSION,
    sections: [
      {
        heading: 'Who is responsible',
        paragraphs: [
          `The controller of your personal data is ${who}. Bureau is software that the organisation runs on its own servers (self-hosted): your data is not sent to the makers of Bureau or to any other company.`,
          'Questions about your data, and requests to exercise your rights, go to your organisation’s administrators — in Bureau under “Help & support”, or to the contact your organisation has named.',
        ],
      },
      {
        heading: 'What Bureau stores',
        items: [
          'Your account: name, email address, role and rights, and a password hash (Argon2id — the password itself is never stored).',
          'An optional profile, only if your organisation switched on the extended profile and only what is filled in: e.g. title, work location, phone numbers, weekly office hours. A photo only if you upload one.',
          'Your registration: the time, IP address and browser with which you accepted an invitation.',
          'Access logs: date and time, IP address, browser type and version of each sign-in.',
          'Metadata of calls, messages and file transfers: who, with whom, when, how long, which room, and the size of a message or file.',
          'Support requests you send, with the answers.',
        ],
        after: [
          'Bureau never stores the contents of calls, and it cannot read messages or files. Audio, video, messages and files travel directly between the browsers, end-to-end encrypted; the server only helps the browsers find each other.',
          'A message or a file for a colleague who is offline, and what is written in team channels, waits on the server encrypted for the recipients’ devices, with keys that only those devices hold: the server cannot read it. A message is deleted once every device fetched it; a larger file, uploaded encrypted, is deleted when its sender deletes it; both are deleted at the latest after the retention period your organisation has set. The server keeps each device’s public keys and its name.',
        ],
      },
      {
        heading: 'Why (purposes and legal basis)',
        paragraphs: [
          'The data is processed to provide the virtual office to the members of the organisation: to sign you in, to show you to your colleagues, to connect calls, to keep the service secure and to answer support requests. The legal basis is the employment or service relationship with your organisation (Art. 6(1)(b) GDPR, and in an employment relationship the applicable employment law), the organisation’s legitimate interest in operating a secure service (Art. 6(1)(f) GDPR) for access logs, and your consent (Art. 6(1)(a) GDPR) for voluntary data such as a photo.',
        ],
      },
      {
        heading: 'How it is protected',
        items: [
          'Encryption in transit: only TLS 1.2 or 1.3.',
          'Encryption at rest: every personal field is sealed with a data key of your organisation, which is itself wrapped by a master key that only the organisation holds. Look-ups by email use a keyed blind index, not the address in clear.',
          'Sign-in links and sessions are random 256-bit values of which only a hash is stored.',
          'Repeated wrong passwords are rate limited; optional two-factor authentication.',
        ],
      },
      {
        heading: 'How long it is kept',
        paragraphs: [
          'Account and profile data are kept while your account exists and deleted when it is erased. Access logs, call, message and file metadata, invitations and resolved support requests are deleted automatically after the retention periods your organisation has set. Unused invitations expire after 7 days.',
        ],
      },
      {
        heading: 'Who receives it',
        paragraphs: [
          'Colleagues in your organisation see your name, email address and the profile fields your organisation uses. Administrators see what they need to manage accounts. Emails (invitations, support answers) pass through the mail server your organisation has configured. Nothing is sold or shared for advertising.',
        ],
      },
      {
        heading: 'Your rights',
        paragraphs: ['Under Articles 15 to 22 GDPR you have the right to:'],
        items: [
          'access your data and receive a copy in a machine-readable format (portability);',
          'have wrong data corrected (rectification);',
          'have your data erased, or its processing restricted;',
          'object to processing based on legitimate interests;',
          'withdraw a consent at any time, without affecting what happened before;',
          'lodge a complaint with a data-protection supervisory authority.',
        ],
        after: ['You can correct most of your data yourself under “My profile”. For everything else, ask your organisation’s administrators.'],
      },
      {
        heading: 'Your browser',
        paragraphs: [
          'Bureau keeps your session in a secure, HttpOnly cookie that ends when you sign out. The browser’s local storage holds only preferences such as the colour theme and your device and consent choices — see the notice about local storage.',
        ],
      },
    ],
  };
}

/**
 * The terms of use.
 * @param {string} [orgName] The organisation's name, when known.
 * @returns {LegalDocument}
 */
export function termsOfUse(orgName) {
  const who = controller(orgName);
  return {
    kind: 'terms',
    title: 'Terms of use',
    summary: 'The rules for using this Bureau.',
    version: VERSION,
    sections: [
      {
        heading: 'The service',
        paragraphs: [
          `This Bureau is provided by ${who} to its members and invited guests, for working together: presence, calls, video meetings, messages and file transfers.`,
        ],
      },
      {
        heading: 'Your account',
        items: [
          'The account is personal: do not share your password or sign-in links.',
          'Choose a strong password and, where offered, switch on two-factor authentication.',
          'Tell an administrator at once if you believe someone else used your account.',
        ],
      },
      {
        heading: 'Acceptable use',
        items: [
          'Use Bureau for the purposes of your work with the organisation and according to its policies.',
          'Respect your colleagues: no harassment, and no recording of calls without the consent of everyone in them.',
          'Do not send unlawful content or malware, and do not try to get around the security of the service.',
          'Only share files and personal data of others when you are allowed to.',
        ],
      },
      {
        heading: 'Availability',
        paragraphs: [
          'The organisation runs the service on its own infrastructure and aims to keep it available, but cannot promise uninterrupted operation. Maintenance may interrupt it.',
        ],
      },
      {
        heading: 'Ending the use',
        paragraphs: [
          'Administrators may deactivate an account, for example when someone leaves the organisation or breaks these terms. Your data is then handled as the privacy policy describes.',
        ],
      },
      {
        heading: 'Changes',
        paragraphs: [
          'The organisation may change these terms; you will be told about important changes in Bureau. The privacy policy explains how your personal data is processed.',
        ],
      },
    ],
  };
}

/**
 * What the browser keeps on this device.
 * @returns {LegalDocument}
 */
export function localStorageNotice() {
  return {
    kind: 'local-storage',
    title: 'Local storage in your browser',
    summary: 'What Bureau keeps on this device, and how to remove it.',
    version: VERSION,
    sections: [
      {
        heading: 'What is kept',
        paragraphs: ['Bureau uses no tracking, no advertising and no third-party cookies. On this device it keeps only:'],
        items: [
          'A session cookie (bureau_session): a random value that keeps you signed in. It is HttpOnly, so scripts cannot read it, and it ends when you sign out or the session expires.',
          'Your colour theme (bureau.theme in local storage): system, light or dark.',
          'Your device choices: which camera, microphone and speaker to use.',
          'Your consent to camera and microphone (bureau.consent in local storage): its id, the version of the consent text you agreed to, which of camera and microphone you allowed, and the devices you chose. Withdrawing the consent removes it.',
          'As a guest, the name of the organisation and room of your guest link (bureau.guest in session storage), for a reload; it goes when you close the tab.',
          'As a member, this browser’s keys for end-to-end encrypted messages (IndexedDB bureau-device: they cannot be copied out of the browser; only their public halves go to the server), the device’s id and message counters (IndexedDB bureau-messages), and the history of your conversations on this device (IndexedDB bureau-history), so that messages are still here after a reload.',
        ],
        after: ['None of this is sent to anyone but this Bureau server; your conversations stay on this device (the server only passes on what it cannot read).'],
      },
      {
        heading: 'Removing it',
        paragraphs: [
          'Signing out ends the session. Clearing this site’s data in your browser’s settings (“Cookies and site data”) removes everything else: Bureau then uses the default theme and devices and asks for your consent again.',
        ],
      },
    ],
  };
}

/**
 * One of the documents by kind.
 * @param {LegalKind} kind
 * @param {string} [orgName]
 * @returns {LegalDocument}
 */
export function legalDocument(kind, orgName) {
  if (kind === 'privacy') return privacyPolicy(orgName);
  if (kind === 'terms') return termsOfUse(orgName);
  return localStorageNotice();
}
