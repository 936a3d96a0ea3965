/**
 * Turns a schema failure into the contract's 422: message `"{field path}: {problem}"`, `param` = field path.
 */
import { formatIssuePath } from '../config/load'
import { unprocessable, type ApiError } from './errors'

type Issue = {
  code?: string
  path?: ReadonlyArray<PropertyKey>
  message?: string
  keys?: string[]
  expected?: string
}

export function validationError(issue: Issue | undefined, where: 'body' | 'query' | 'params' | 'headers' = 'body'): ApiError {
  if (!issue) return unprocessable(`${where}: invalid`)
  const path = [...(issue.path ?? [])]
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    const field = formatIssuePath([...path, issue.keys[0]])
    return unprocessable(`${field}: unknown field`, field)
  }
  const field = formatIssuePath(path)
  if (!field) return unprocessable(where === 'body' ? 'body: the request body must be a JSON object' : `${where}: invalid`)
  return unprocessable(`${field}: ${describeProblem(issue)}`, field)
}

function describeProblem(issue: Issue): string {
  if (issue.code === 'invalid_type') {
    if (/received undefined/.test(issue.message ?? '')) return 'field required'
    return issue.expected ? `expected ${issue.expected}` : lowerFirst(issue.message ?? 'invalid value')
  }
  return lowerFirst(issue.message ?? 'invalid value')
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}
