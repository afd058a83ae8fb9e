/**
 * Making a new alarm unmissable: a flashing title until the operator looks, and a beep made with
 * WebAudio (no sound file), which the operator can mute. Browsers start audio only after the
 * page has had a click or a key press: the first one unlocks it.
 */
const MUTED_KEY = 'amr.console.muted';

export class Notifier {
  private audio: AudioContext | null = null;
  private flashTimer: ReturnType<typeof setInterval> | null = null;
  private readonly baseTitle = document.title;
  muted = sessionStorage.getItem(MUTED_KEY) === '1';

  constructor() {
    const unlock = () => void this.context()?.resume().catch(() => undefined);
    document.addEventListener('pointerdown', unlock, { once: true });
    document.addEventListener('keydown', unlock, { once: true });
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    sessionStorage.setItem(MUTED_KEY, muted ? '1' : '0');
  }

  /** A new alarm: flash the title and, unless muted, three short beeps. */
  newAlarm(label: string): void {
    this.flash(label);
    if (!this.muted) this.beep();
  }

  /** The operator has seen it. */
  calm(): void {
    if (this.flashTimer) clearInterval(this.flashTimer);
    this.flashTimer = null;
    document.title = this.baseTitle;
  }

  private flash(label: string): void {
    this.calm();
    let on = false;
    const tick = () => {
      on = !on;
      document.title = on ? `● ${label}` : this.baseTitle;
    };
    tick();
    this.flashTimer = setInterval(tick, 800);
  }

  private context(): AudioContext | null {
    if (!this.audio && typeof AudioContext !== 'undefined') this.audio = new AudioContext();
    return this.audio;
  }

  private beep(): void {
    const ctx = this.context();
    if (!ctx) return;
    void ctx.resume().catch(() => undefined);
    for (let i = 0; i < 3; i++) {
      const start = ctx.currentTime + i * 0.25;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.2);
    }
  }
}
