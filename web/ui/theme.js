// The colour theme choice: the only thing the client keeps in localStorage (a UI preference).

const KEY = 'bureau.theme';

/** @typedef {'system'|'light'|'dark'} Theme */

/**
 * The stored theme choice, `system` when none (or storage is unavailable).
 * @returns {Theme}
 */
export function savedTheme() {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/**
 * Applies a theme to the document: `system` follows `prefers-color-scheme`.
 * @param {string} theme
 */
export function applyTheme(theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

/**
 * Stores and applies a theme choice.
 * @param {string} theme
 */
export function saveTheme(theme) {
  try {
    if (theme === 'light' || theme === 'dark') localStorage.setItem(KEY, theme);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage may be disabled; the choice then lasts for this page only.
  }
  applyTheme(theme);
}
