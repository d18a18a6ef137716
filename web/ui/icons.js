// Small line icons as inline SVG (emoji fonts are not everywhere). Decorative: hidden from
// screen readers, so the text next to them must say what they mean.

/** @type {Record<string, string>} */
const PATHS = {
  home: '<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9.5V21h14V9.5"/><path d="M10 21v-6h4v6"/>',
  office: '<rect x="4" y="3" width="16" height="18" rx="1"/><path d="M8 7h2M14 7h2M8 11h2M14 11h2M8 15h2M14 15h2M11 21v-3h2v3"/>',
  go: '<path d="M12 21s-7-6.2-7-11.5A7 7 0 0 1 19 9.5C19 14.8 12 21 12 21Z"/><circle cx="12" cy="9.5" r="2.5"/>',
  micOff: '<path d="M9 5a3 3 0 0 1 6 0v5M15 13.5A3 3 0 0 1 9 12V9"/><path d="M5 11a7 7 0 0 0 11.5 5.3M19 11a7 7 0 0 1-.6 2.8M12 18v3M3 3l18 18"/>',
  screen: '<rect x="3" y="4" width="18" height="12" rx="1.5"/><path d="M8 20h8M12 16v4"/>',
  file: '<path d="M14 3H6v18h12V7Z"/><path d="M14 3v4h4"/>',
  warning: '<path d="M12 3 2 20h20Z"/><path d="M12 10v4M12 17v.5"/>',
};

/**
 * An inline icon.
 * @param {keyof typeof PATHS|string} name
 * @returns {HTMLSpanElement}
 */
export function icon(name) {
  const span = document.createElement('span');
  span.className = 'icon';
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML = `<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${PATHS[name] || ''}</svg>`;
  return span;
}
