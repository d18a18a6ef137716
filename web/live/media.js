// The local camera, microphone and screen: device choice (remembered in localStorage), mute,
// camera off, screen sharing and voice activity. The mesh (rtc.js) sends what this holds.

const MIC_KEY = 'bureau.microphone';
const CAM_KEY = 'bureau.camera';
const SPEAKING_LEVEL = 0.02;
const SPEAKING_HOLD_MS = 600;

/**
 * @typedef {import('/client/protocol.js').MediaState} MediaState
 * @typedef {{camera: boolean, microphone: boolean}} Allowed
 */

/**
 * @param {string} key
 * @returns {string}
 */
function stored(key) {
  try {
    return localStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

/**
 * @param {string} key
 * @param {string} value
 */
function store(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // Storage disabled: the choice lasts for this page.
  }
}

/**
 * Remembers the microphone or camera to use (localStorage), e.g. from the consent step.
 * @param {'audio'|'video'} kind
 * @param {string} deviceId '' forgets the choice.
 */
export function rememberDevice(kind, deviceId) {
  store(kind === 'audio' ? MIC_KEY : CAM_KEY, deviceId);
}

/**
 * The remembered microphone or camera ('' when none).
 * @param {'audio'|'video'} kind
 * @returns {string}
 */
export function rememberedDevice(kind) {
  return stored(kind === 'audio' ? MIC_KEY : CAM_KEY);
}

/**
 * The getUserMedia constraint of one kind: false when off, the given device when there is one,
 * else any device. A chosen device is asked for with `exact`: Chromium (since 126) ignores an
 * `ideal` deviceId and opens the browser's preferred device instead, so callers retry with any
 * device when the chosen one is gone.
 * @param {boolean} on
 * @param {string} deviceId '' for any device.
 * @returns {boolean|MediaTrackConstraints}
 */
export function deviceConstraint(on, deviceId) {
  return on ? (deviceId ? { deviceId: { exact: deviceId } } : true) : false;
}

/** The user's own media, shared by every peer connection of the current room. */
export class LocalMedia {
  constructor() {
    /** The stream shown in the self view and sent to peers. */
    this.stream = new MediaStream();
    /** @type {MediaStreamTrack|null} */
    this.audio = null;
    /** @type {MediaStreamTrack|null} */
    this.camera = null;
    /** @type {MediaStreamTrack|null} */
    this.screen = null;
    /** @type {MediaState} */
    this.state = { muted: false, camera: true, screen: false, speaking: false };
    /** Why the devices could not be opened, '' when they could. */
    this.problem = '';
    /** @type {Set<() => void>} */
    this.listeners = new Set();
    /** @type {AudioContext|null} */
    this.audioContext = null;
    /** @type {any} */
    this.meter = null;
    /**
     * Asked before a device opens (informed consent, consent.js): which devices the user agreed
     * to, or null when they did not. Without a gate everything is allowed.
     * @type {(() => Promise<Allowed|null>)|null}
     */
    this.gate = null;
    /** @type {Allowed} What the gate allowed last. */
    this.allowed = { camera: true, microphone: true };
    /** @type {Promise<void>|null} */
    this.starting = null;
  }

  /**
   * Asks the gate (if any) which devices may open; remembers the answer.
   * @returns {Promise<Allowed>}
   * @private
   */
  async ask() {
    if (!this.gate) return this.allowed;
    const answer = await this.gate().catch(() => null);
    this.allowed = answer || { camera: false, microphone: false };
    return this.allowed;
  }

  /**
   * Calls `fn` whenever a track or the media state changes; returns a function that stops it.
   * @param {() => void} fn
   * @returns {() => void}
   */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @private */
  changed() {
    for (const fn of [...this.listeners]) fn();
  }

  /** The track to send as video: the screen while shared, else the camera (or null). */
  get videoTrack() {
    return this.screen || (this.state.camera ? this.camera : null);
  }

  /**
   * Opens the microphone and camera with the remembered devices (falls back to any device, then
   * to audio only). Safe to call again: tracks that are open stay.
   * @returns {Promise<void>}
   */
  async start() {
    if (this.audio || this.camera) return;
    if (!this.starting) this.starting = this.open().finally(() => { this.starting = null; });
    return this.starting;
  }

  /** @private */
  async open() {
    const allowed = await this.ask();
    if (!allowed.camera && !allowed.microphone) {
      this.problem = 'Camera and microphone are off: you have not agreed to their use.';
      this.state.camera = false;
      this.changed();
      return;
    }
    if (!allowed.camera) this.state.camera = false;
    const mic = stored(MIC_KEY);
    const cam = stored(CAM_KEY);
    const attempts = [
      { audio: deviceConstraint(allowed.microphone, mic), video: deviceConstraint(this.state.camera, cam) },
      // A remembered device that is gone (unplugged): any microphone and camera.
      ...(mic || cam ? [{ audio: allowed.microphone, video: this.state.camera }] : []),
      { audio: allowed.microphone, video: false },
      { audio: false, video: allowed.camera },
    ].filter((c) => c.audio || c.video);
    for (const constraints of attempts) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia(constraints);
        this.problem = '';
        this.audio = stream.getAudioTracks()[0] || null;
        this.camera = stream.getVideoTracks()[0] || null;
        if (!this.camera) this.state.camera = false;
        if (this.audio) this.audio.enabled = !this.state.muted;
        this.rebuildStream();
        this.startMeter();
        this.changed();
        return;
      } catch (err) {
        this.problem = err instanceof Error && err.name === 'NotAllowedError'
          ? 'The browser did not allow the camera and microphone.'
          : 'No camera or microphone could be opened.';
      }
    }
    this.changed();
  }

  /** Stops every track (leaving a room). */
  stop() {
    for (const track of [this.audio, this.camera, this.screen]) if (track) track.stop();
    this.audio = null;
    this.camera = null;
    this.screen = null;
    this.state.screen = false;
    this.state.speaking = false;
    this.stopMeter();
    this.rebuildStream();
    this.changed();
  }

  /** @private */
  rebuildStream() {
    for (const t of this.stream.getTracks()) this.stream.removeTrack(t);
    if (this.audio) this.stream.addTrack(this.audio);
    const video = this.videoTrack;
    if (video) this.stream.addTrack(video);
  }

  /**
   * Mutes or unmutes the microphone (the track keeps running, disabled).
   * @param {boolean} muted
   */
  setMuted(muted) {
    this.state.muted = muted;
    if (this.audio) this.audio.enabled = !muted;
    if (muted) this.state.speaking = false;
    this.changed();
  }

  /**
   * Turns the camera off (the device is released) or on again.
   * @param {boolean} on
   * @returns {Promise<void>}
   */
  async setCamera(on) {
    if (!on) {
      if (this.camera) this.camera.stop();
      this.camera = null;
      this.state.camera = false;
    } else if (!this.camera) {
      if (!this.allowed.camera && !(await this.ask()).camera) {
        this.problem = 'The camera stays off: you have not agreed to its use.';
        this.changed();
        return;
      }
      const cam = stored(CAM_KEY);
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ video: deviceConstraint(true, cam) })
          .catch((err) => { if (!cam) throw err; return navigator.mediaDevices.getUserMedia({ video: true }); });
        this.camera = stream.getVideoTracks()[0] || null;
        this.state.camera = Boolean(this.camera);
      } catch {
        this.problem = 'The camera could not be opened.';
        this.state.camera = false;
      }
    }
    this.rebuildStream();
    this.changed();
  }

  /**
   * Starts or stops sharing the screen; the screen replaces the camera while shared.
   * @param {boolean} on
   * @returns {Promise<boolean>} Whether the screen is shared now.
   */
  async setScreen(on) {
    if (on && !this.screen) {
      try {
        const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
        const track = stream.getVideoTracks()[0];
        if (!track) return false;
        track.addEventListener('ended', () => { if (this.screen === track) void this.setScreen(false); });
        this.screen = track;
        this.state.screen = true;
      } catch {
        return false;
      }
    } else if (!on && this.screen) {
      this.screen.stop();
      this.screen = null;
      this.state.screen = false;
    }
    this.rebuildStream();
    this.changed();
    return this.state.screen;
  }

  /**
   * The available devices, for the device menus.
   * @returns {Promise<{microphones: MediaDeviceInfo[], cameras: MediaDeviceInfo[], micId: string, camId: string}>}
   */
  async devices() {
    const list = navigator.mediaDevices && navigator.mediaDevices.enumerateDevices ? await navigator.mediaDevices.enumerateDevices() : [];
    return {
      microphones: list.filter((d) => d.kind === 'audioinput'),
      cameras: list.filter((d) => d.kind === 'videoinput'),
      micId: (this.audio && this.audio.getSettings().deviceId) || stored(MIC_KEY),
      camId: (this.camera && this.camera.getSettings().deviceId) || stored(CAM_KEY),
    };
  }

  /**
   * Switches to another microphone or camera and remembers the choice.
   * @param {'audio'|'video'} kind
   * @param {string} deviceId
   * @returns {Promise<void>}
   */
  async useDevice(kind, deviceId) {
    rememberDevice(kind, deviceId);
    if (kind === 'video' && !this.state.camera) return;
    if (!(kind === 'audio' ? this.allowed.microphone : this.allowed.camera)) return;
    try {
      const constraints = { deviceId: { exact: deviceId } };
      const stream = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: constraints } : { video: constraints });
      const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (kind === 'audio') {
        if (this.audio) this.audio.stop();
        this.audio = track;
        track.enabled = !this.state.muted;
        this.stopMeter();
        this.startMeter();
      } else {
        if (this.camera) this.camera.stop();
        this.camera = track;
      }
    } catch {
      this.problem = 'That device could not be opened.';
    }
    this.rebuildStream();
    this.changed();
  }

  /** Measures the microphone level and sets `speaking` (with a short hold against flicker). @private */
  startMeter() {
    if (!this.audio || typeof AudioContext === 'undefined') return;
    try {
      this.audioContext = this.audioContext || new AudioContext();
      const source = this.audioContext.createMediaStreamSource(new MediaStream([this.audio]));
      const analyser = this.audioContext.createAnalyser();
      analyser.fftSize = 512;
      source.connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      let lastLoud = 0;
      this.meter = setInterval(() => {
        if (this.audioContext && this.audioContext.state === 'suspended') void this.audioContext.resume().catch(() => {});
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        const rms = Math.sqrt(sum / samples.length);
        const now = Date.now();
        if (rms > SPEAKING_LEVEL && !this.state.muted) lastLoud = now;
        const speaking = now - lastLoud < SPEAKING_HOLD_MS;
        if (speaking !== this.state.speaking) {
          this.state.speaking = speaking;
          this.changed();
        }
      }, 150);
    } catch {
      // No WebAudio: no voice activity, everything else works.
    }
  }

  /** @private */
  stopMeter() {
    clearInterval(this.meter);
    this.meter = null;
  }
}
