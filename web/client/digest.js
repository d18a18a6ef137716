// The SHA-256 of bytes in hex, as file lines show it and messages carry it. No DOM here.

/**
 * @param {BufferSource} bytes
 * @returns {Promise<string>} Hex SHA-256.
 */
export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}
