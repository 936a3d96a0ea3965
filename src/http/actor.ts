import { actorOf, type ChangeActor } from '../audit/record'
import type { Principal } from '../auth/principal'
import { routePath } from './paths'

/** The audit actor of a management request. */
export function requestActor(principal: Principal, request: Request): ChangeActor {
  return actorOf(principal, routePath(request.url), request.headers.get('litellm-changed-by'))
}
