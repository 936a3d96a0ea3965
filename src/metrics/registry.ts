/**
 * The Prometheus metrics of §10, on a registry of the app's own (so several apps in one test process do not
 * share series). Names and labels are LiteLLM's, counters with their `_total` suffix, so existing dashboards
 * and PromQL keep working. Recording is done by the code that knows the numbers (proxy, settlement, budget
 * windows); a scrape only serializes what is in memory and never queries the database.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Seconds: 5 ms … 10 s in steps of 0.5 s, then the long tail of slow models. */
export const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, ...Array.from({ length: 19 }, (_, i) => 1 + i * 0.5), 15, 20, 25, 30, 60, 120, 180, 240, 300,
]

const REQUEST_LABELS = ['end_user', 'hashed_api_key', 'api_key_alias', 'requested_model', 'team', 'team_alias', 'user'] as const
const SPEND_LABELS = ['end_user', 'hashed_api_key', 'api_key_alias', 'model', 'team', 'team_alias', 'user'] as const
/** Alphabetical, as LiteLLM's exposition prints them: `{team=…,team_alias=…,team_id=…}`. */
const TEAM_LABELS = ['team', 'team_alias', 'team_id'] as const
/** The upstream latency and time-to-first-token histograms' labels, in LiteLLM's order. */
const UPSTREAM_LATENCY_LABELS = ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'requested_model', 'end_user', 'user'] as const
const DEPLOYMENT_LABELS = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'] as const
const DEPLOYMENT_REQUEST_LABELS = ['requested_model', ...DEPLOYMENT_LABELS, 'hashed_api_key', 'api_key_alias', 'team', 'team_alias'] as const

export function createMetrics() {
  const registry = new Registry()
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] })
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] })
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [registry] })

  return {
    registry,
    totalRequests: counter('litellm_proxy_total_requests_metric_total', 'Requests made to the proxy', [...REQUEST_LABELS, 'status_code']),
    failedRequests: counter('litellm_proxy_failed_requests_metric_total', 'Requests that failed', [
      ...REQUEST_LABELS,
      'exception_status',
      'exception_class',
    ]),
    spend: counter('litellm_spend_metric_total', 'Spend in USD', SPEND_LABELS),
    totalTokens: counter('litellm_total_tokens_metric_total', 'Input + output tokens', [...SPEND_LABELS, 'requested_model']),
    inputTokens: counter('litellm_input_tokens_metric_total', 'Input tokens', [...SPEND_LABELS, 'requested_model']),
    outputTokens: counter('litellm_output_tokens_metric_total', 'Output tokens', [...SPEND_LABELS, 'requested_model']),

    remainingTeamBudget: gauge('litellm_remaining_team_budget_metric', 'Remaining budget of a team (USD)', TEAM_LABELS),
    teamMaxBudget: gauge('litellm_team_max_budget_metric', 'Maximum budget of a team (USD)', TEAM_LABELS),
    teamBudgetRemainingHours: gauge('litellm_team_budget_remaining_hours_metric', 'Hours until a team budget resets', TEAM_LABELS),
    remainingKeyBudget: gauge('litellm_remaining_api_key_budget_metric', 'Remaining budget of a key (USD)', ['hashed_api_key', 'api_key_alias']),
    keyMaxBudget: gauge('litellm_api_key_max_budget_metric', 'Maximum budget of a key (USD)', ['hashed_api_key', 'api_key_alias']),
    keyBudgetRemainingHours: gauge('litellm_api_key_budget_remaining_hours_metric', 'Hours until a key budget resets', ['hashed_api_key', 'api_key_alias']),
    remainingUserBudget: gauge('litellm_remaining_user_budget_metric', 'Remaining budget of a user (USD)', ['user']),
    userMaxBudget: gauge('litellm_user_max_budget_metric', 'Maximum budget of a user (USD)', ['user']),
    remainingOrgBudget: gauge('litellm_remaining_org_budget_metric', 'Remaining budget of an organization (USD)', ['organization_id', 'organization_alias']),
    orgMaxBudget: gauge('litellm_org_max_budget_metric', 'Maximum budget of an organization (USD)', ['organization_id', 'organization_alias']),
    remainingKeyRequestsForModel: gauge('litellm_remaining_api_key_requests_for_model', 'Requests left in the window for a key and model', [
      'hashed_api_key',
      'api_key_alias',
      'model',
    ]),
    remainingKeyTokensForModel: gauge('litellm_remaining_api_key_tokens_for_model', 'Tokens left in the window for a key and model', [
      'hashed_api_key',
      'api_key_alias',
      'model',
    ]),

    requestLatency: histogram('litellm_request_total_latency_metric', 'Total request latency (s)', [...REQUEST_LABELS, 'model']),
    upstreamLatency: histogram('litellm_llm_api_latency_metric', 'Upstream call latency (s)', UPSTREAM_LATENCY_LABELS),
    timeToFirstToken: histogram('litellm_llm_api_time_to_first_token_metric', 'Time to first token of streams (s)', UPSTREAM_LATENCY_LABELS),
    overheadLatency: histogram('litellm_overhead_latency_metric', 'Gateway overhead (s)', ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias']),

    deploymentSuccesses: counter('litellm_deployment_success_responses_total', 'Successful deployment responses', DEPLOYMENT_REQUEST_LABELS),
    deploymentFailures: counter('litellm_deployment_failure_responses_total', 'Failed deployment responses', [
      ...DEPLOYMENT_REQUEST_LABELS,
      'exception_status',
      'exception_class',
    ]),
    deploymentRequests: counter('litellm_deployment_total_requests_total', 'Requests sent to deployments', DEPLOYMENT_REQUEST_LABELS),
    deploymentState: gauge('litellm_deployment_state', '0 healthy, 1 partial outage, 2 complete outage (cooling down)', DEPLOYMENT_LABELS),

    spoolEvents: gauge('tollgate_spend_spool_events', 'Settlements waiting to be written to the database', []),
    spoolOldestSeconds: gauge('tollgate_spend_spool_oldest_seconds', 'Age of the oldest unwritten settlement', []),
    invalidationLagSeconds: gauge('tollgate_cache_invalidation_lag_seconds', 'Delay of the last cross-instance cache invalidation', []),
    redisErrors: counter('tollgate_redis_errors_total', 'Redis operations that failed (counters fell back to local)', []),
    budgetWaitSeconds: histogram('tollgate_budget_wait_seconds', 'Time requests waited for budget admission', []),
    unpricedRequests: counter('tollgate_unpriced_requests_total', 'Requests to models without a price', ['model']),
    softBudgetCrossed: counter('tollgate_soft_budget_crossed_total', 'Soft budgets crossed', ['level']),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** prom-client prints labels in the order of the object's keys; this keeps LiteLLM's alphabetical order. */
export function teamLabels(teamId: string, teamAlias: string | null) {
  return { team: teamId, team_alias: teamAlias ?? '', team_id: teamId }
}
