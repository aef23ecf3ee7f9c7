/**
 * Java's Double.toString / Float.toString, so JSON written for float32/float64 fields is byte-identical
 * to what Kafka Connect's JsonConverter (Jackson) writes: "1.0" not "1", "1.0E10" not "10000000000".
 * Both Java (JDK 19+) and JS pick the shortest digits that round-trip (ties to the even digit); only the
 * layout differs. JDK 17's older algorithm sometimes prints a longer or different (still equivalent)
 * text for extreme doubles, e.g. 1.0E-323 for 2 × Double.MIN_VALUE where JDK 19+ prints 9.9E-324.
 */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  return layout(d, twoDigitsAtLeast(d, d.toExponential()));
}

/**
 * Java (JDK 19+) never prints fewer than two significant digits: when one digit would do, it prints the
 * closest two-digit decimal (4.9E-324, not 5.0E-324), which only differs for the widest intervals.
 */
function twoDigitsAtLeast(d: number, shortest: string): string {
  if (shortest.includes('.')) return shortest;
  const two = evenOnTie(d, d.toExponential(1), (x) => x);
  return Number(two) === d ? two : shortest;
}

/**
 * JS's toExponential(n) breaks a tie between two n-digit decimals upward; Java picks the one with an
 * even last digit. `exponential` is d.toExponential(n); returns the even neighbour when d is exactly
 * half-way and that neighbour still reads back as d (through `round`, e.g. Math.fround for floats).
 */
function evenOnTie(d: number, exponential: string, round: (x: number) => number): string {
  const [mantissa, expText] = exponential.split('e') as [string, string];
  const lastDigit = Number(mantissa.at(-1));
  if (lastDigit % 2 === 0) return exponential;
  const fractionDigits = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  const unit = 10 ** (Number(expText) - fractionDigits);
  const candidate = Number(exponential);
  const distance = Math.abs(candidate - d);
  // The candidate is itself a rounded double: allow its rounding error when testing for a tie.
  const tolerance = Math.max(unit * 1e-9, Math.abs(d) * 2 ** -50);
  if (Math.abs(distance - unit / 2) > tolerance) return exponential;
  const other = (candidate > d ? candidate - unit : candidate + unit).toExponential(fractionDigits);
  return round(Number(other)) === round(d) ? other : exponential;
}

export function javaFloatToString(f: number): string {
  const v = Math.fround(f);
  if (!Number.isFinite(v) || v === 0) return javaDoubleToString(v);
  // Shortest decimal that reads back as the same float32.
  for (let p = 1; p <= 9; p++) {
    const s = evenOnTie(v, v.toExponential(p - 1), Math.fround);
    if (Math.fround(Number(s)) === v) {
      const shortest = Number(s).toExponential();
      const two = evenOnTie(v, v.toExponential(1), Math.fround);
      return layout(v, !shortest.includes('.') && Math.fround(Number(two)) === v ? two : shortest);
    }
  }
  return layout(v, v.toExponential());
}

function layout(d: number, exponential: string): string {
  const abs = Math.abs(d);
  const [mantissa, expText] = exponential.split('e') as [string, string];
  const exp = Number(expText);
  if (abs >= 1e-3 && abs < 1e7) {
    const neg = mantissa.startsWith('-');
    const digits = mantissa
      .replace('-', '')
      .replace('.', '')
      .replace(/(?<=.)0+$/, '');
    let plain: string;
    if (exp >= 0) {
      const intDigits = digits.padEnd(exp + 1, '0');
      const intPart = intDigits.slice(0, exp + 1);
      const frac = intDigits.slice(exp + 1);
      plain = `${intPart}.${frac === '' ? '0' : frac}`;
    } else {
      plain = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
    return (neg ? '-' : '') + plain;
  }
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${exp}`;
}

/**
 * Java's BigDecimal.toString, which Jackson uses for decimal.format=NUMERIC (Connect does not enable
 * WRITE_BIGDECIMAL_AS_PLAIN): plain digits unless the scale is negative or the adjusted exponent is
 * below -6, then scientific ("1E-8", "1.5E+3").
 */
export function javaBigDecimalToString(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString();
  const adjusted = -scale + (digits.length - 1);
  const sign = neg ? '-' : '';
  if (scale >= 0 && adjusted >= -6) {
    if (scale === 0) return sign + digits;
    const padded = digits.padStart(scale + 1, '0');
    const i = padded.length - scale;
    return `${sign}${padded.slice(0, i)}.${padded.slice(i)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
}
