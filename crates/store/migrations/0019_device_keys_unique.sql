-- A device's keys are registered once per organisation. The registration checks for an existing
-- device first, but two registrations of the same browser at the same moment (two tabs opening)
-- both passed that check; the database now refuses the second. A signing key is unique in the
-- organisation (only its holder can sign a registration with it); an HPKE key, which is public
-- and needs no proof of possession, only per user, so a colleague who copies it cannot block
-- its owner's registration.

CREATE UNIQUE INDEX device_keys_sign_public ON device_keys (org_id, sign_public);
CREATE UNIQUE INDEX device_keys_hpke_public ON device_keys (org_id, user_id, hpke_public);
