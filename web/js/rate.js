// Upload speed over a moving window: the last few seconds of progress events,
// so a stall shows at once and an early burst (the first chunk lands in the
// socket buffer) does not promise a remaining time the link cannot keep.

export function createMeter(windowMs = 5000) {
  const samples = [];
  return {
    /** Record loaded bytes at time now (ms); the speed (bytes/s) and the
     * remaining seconds, null while there is not enough to tell. */
    sample(loaded, total, now) {
      samples.push({ loaded, now });
      while (samples.length > 2 && now - samples[0].now > windowMs) samples.shift();
      const first = samples[0];
      const elapsed = (now - first.now) / 1000;
      if (elapsed < 0.25) return { speed: null, remaining: null };
      const speed = (loaded - first.loaded) / elapsed;
      if (speed <= 0) return { speed: 0, remaining: null };
      return { speed, remaining: Math.max(0, (total - loaded) / speed) };
    },
    reset() {
      samples.length = 0;
    },
  };
}
