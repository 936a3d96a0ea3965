/**
 * Formats a number the way Python's `repr(float)` does.
 *
 * LiteLLM puts Python float reprs in error messages and headers (`Current cost: 3.5e-06`), and clients parse
 * that text, so Tollgate must produce the same characters: shortest round-trip digits, fixed notation when the
 * decimal exponent is in [-4, 16), otherwise `d[.ddd]e±XX`.
 *
 * @example pythonFloat(1e-9) === "1e-09"; pythonFloat(100) === "100.0"
 */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan'
  if (value === Infinity) return 'inf'
  if (value === -Infinity) return '-inf'
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0'
  // Fast path (headers on every response): in this range JavaScript's shortest round-trip text is already
  // fixed notation, which is Python's too, except that Python marks a whole number with `.0`.
  const magnitude = Math.abs(value)
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    const text = String(value)
    return text.includes('.') ? text : `${text}.0`
  }

  const sign = value < 0 ? '-' : ''
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e')
  const exponent = Number(exponentText)
  const digits = mantissa.replace('.', '')

  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
    const integerPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
    const fraction = digits.slice(exponent + 1)
    return `${sign}${integerPart}.${fraction || '0'}`
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : ''
  const expSign = exponent < 0 ? '-' : '+'
  return `${sign}${digits[0]}${fraction}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`
}

/** Python's list repr of strings: `['llama3', 'gpt-4o']`, used inside LiteLLM-compatible messages. */
export function pythonList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`).join(', ')}]`
}
