// Saving one settings card of the organisation (admin page): only what changed is sent; the
// card says so when nothing did, and shows the server's refusal on its form.

import * as api from '/client/api.js';
import { busy, showError, toast } from '/ui/dom.js';

/**
 * @param {HTMLFormElement} form
 * @param {HTMLButtonElement} save The card's submit button (busy while saving).
 * @param {Parameters<typeof api.updateOrg>[0]} patch Only the changed settings.
 * @param {string} saved What the toast says once saved.
 * @returns {Promise<api.Org|null>} The organisation as saved, or null (nothing changed, or refused).
 */
export async function saveOrgSettings(form, save, patch, saved) {
  if (Object.keys(patch).length === 0) {
    toast('Nothing to save: no setting was changed.');
    return null;
  }
  /** @type {api.Org|null} */
  let result = null;
  await busy(save, async () => {
    try {
      result = await api.updateOrg(patch);
      toast(saved, 'success');
    } catch (err) {
      showError(form, err, api.describeError);
    }
  });
  return result;
}
