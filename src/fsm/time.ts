// Epoch milliseconds → ISO-8601 UTC text, computed by hand so the pure layer needs no
// Date object. Same output as `new Date(ms).toISOString()` for years 1970..9999
// (days-to-civil algorithm from Howard Hinnant's "chrono-compatible low-level date algorithms").

const MS_PER_DAY = 86_400_000;
/** 9999-12-31T23:59:59.999Z: the last instant with a four-digit year. */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

export function isValidTimestamp(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIMESTAMP_MS;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function isoTime(ms: number): string {
  if (!isValidTimestamp(ms)) throw new RangeError(`timestamp out of range: ${ms}`);
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(millis, 3)}Z`;
}
