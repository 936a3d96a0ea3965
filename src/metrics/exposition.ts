/**
 * prom-client prints sample values as JavaScript does (`0.000009699999999999992`); LiteLLM's Python client
 * prints them as Python's `floatToGoString` does (`9.699999999999992e-06`, `1.0`). Dashboards and alert
 * tests written against LiteLLM compare that text, so sample values are rewritten to the Python form.
 */
import { pythonFloat } from '../lib/python-float'

/** prometheus_client's floatToGoString: Python repr, with Go's earlier switch to exponents for big values. */
export function goFloat(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (Number.isNaN(value)) return 'NaN'
  const repr = pythonFloat(value)
  const dot = repr.indexOf('.')
  if (value > 0 && dot > 6) {
    const mantissa = `${repr[0]}.${repr.slice(1, dot)}${repr.slice(dot + 1)}`.replace(/[0.]+$/, '')
    return `${mantissa}e+0${dot - 1}`
  }
  return repr
}

export function pythonStyleExposition(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line
      const space = line.lastIndexOf(' ')
      const value = Number(line.slice(space + 1))
      return Number.isNaN(value) && line.slice(space + 1) !== 'NaN' ? line : `${line.slice(0, space + 1)}${goFloat(value)}`
    })
    .join('\n')
}
