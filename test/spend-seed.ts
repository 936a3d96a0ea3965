/**
 * Large spend datasets on Postgres for the report benchmark (scripts/bench-spend-report.ts) and its test:
 * spend_logs rows generated in SQL, and the daily rollups derived from them in SQL exactly as the settlement
 * path derives them (`rollupsOf` in src/spend/increments.ts; a test checks the two agree).
 *
 * Shape of the traffic (`TrafficShape`): `keys` keys, each owned by one of 100 users and one of 20 teams
 * (4 organizations), each calling `modelsPerKey` of six models every day; each key serves 5 end users (a third
 * of requests have none); a quarter of requests carry `prod`, a quarter `prod` and `batch`; 2% fail. Rows are
 * spread evenly over the 31 days of January 2026. The team report has one line per (day, key, model):
 * 31 × keys × modelsPerKey, whatever the number of rows.
 */
import type postgres from 'postgres'

export const BENCH_MONTH = { from: '2026-01-01', to: '2026-01-31' }

const MODELS = `array['gpt-4o','gpt-4o-mini','gpt-4.1','o3-mini','claude-3-5-sonnet','text-embedding-3-small']`

export type TrafficShape = { keys: number; modelsPerKey: number }
/** What a busy organisation's month might look like. */
export const TYPICAL: TrafficShape = { keys: 100, modelsPerKey: 2 }
/** Every key on every model every day: the largest team report for the row count. */
export const HEAVY: TrafficShape = { keys: 200, modelsPerKey: 6 }

/** Inserts rows `first` … `first + count - 1`; deterministic per row number. */
export async function seedSpendLogs(sql: postgres.Sql, first: number, count: number, total: number, shape: TrafficShape = TYPICAL): Promise<void> {
  await sql.unsafe(
    `insert into spend_logs (request_id, response_id, call_type, api_key, spend, prompt_tokens, completion_tokens, total_tokens,
       start_time, end_time, completion_start_time, model, model_group, model_id, provider, user_id, team_id, organization_id,
       end_user, request_tags, status, usage_estimated, metadata, requester_ip_address)
     select
       'bench-' || g, 'chatcmpl-' || g, 'acompletion', md5('key-' || k), ((g * 7919) % 1000 + 1) * 1e-6,
       p, c, p + c,
       timestamptz '2026-01-01 00:00:00+00' + (g::double precision / $3) * interval '31 days',
       timestamptz '2026-01-01 00:00:01+00' + (g::double precision / $3) * interval '31 days', null,
       (${MODELS})[m + 1], (${MODELS})[m + 1], 'deployment-' || m, case when m = 4 then 'anthropic' else 'openai' end,
       'user-' || (k % 100), 'team-' || (k % 20), 'org-' || (k % 20 % 4),
       case when g % 3 = 0 then null else 'cust-' || (k * 5 + (g / 200) % 5) end,
       case g % 4 when 0 then '["prod"]'::jsonb when 1 then '["prod","batch"]'::jsonb else '[]'::jsonb end,
       case when g % 50 = 0 then 'failure' else 'success' end, false, '{}'::jsonb, null
     from generate_series($1::bigint, $2::bigint) as g,
       lateral (select (g % $4)::int as k) as kx,
       lateral (select ((k + (g / 7) % $5) % 6)::int as m, ((g * 31) % 4000 + 1)::int as p, ((g * 17) % 1500)::int as c) as x`,
    [first, first + count - 1, total, shape.keys, shape.modelsPerKey],
  )
}

/**
 * The rollup rows of every spend log row, summed per identity: key, user, team and end user always (`''` when
 * absent), organization and each tag where present. `select` form, so a test can compare it with what the
 * settlement path wrote.
 */
export const DERIVED_ROLLUPS = `
  select e.entity_type, e.entity_id, to_char(s.start_time at time zone 'UTC', 'YYYY-MM-DD') as date, s.api_key,
    s.model_group, s.model, s.provider,
    sum(s.prompt_tokens)::bigint as prompt_tokens, sum(s.completion_tokens)::bigint as completion_tokens, sum(s.spend) as spend,
    count(*)::bigint as api_requests, (count(*) filter (where s.status <> 'failure'))::bigint as successful_requests,
    (count(*) filter (where s.status = 'failure'))::bigint as failed_requests
  from spend_logs s
  cross join lateral (
    select 'key' as entity_type, s.api_key as entity_id
    union all select 'user', coalesce(s.user_id, '')
    union all select 'team', coalesce(s.team_id, '')
    union all select 'end_user', coalesce(s.end_user, '')
    union all select 'organization', s.organization_id where s.organization_id is not null
    union all select distinct 'tag', tag from jsonb_array_elements_text(s.request_tags) as tag
  ) as e
  group by 1, 2, 3, 4, 5, 6, 7`

export async function deriveRollups(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(`insert into daily_spend (entity_type, entity_id, date, api_key, model_group, model, provider, prompt_tokens,
    completion_tokens, spend, api_requests, successful_requests, failed_requests) ${DERIVED_ROLLUPS}`)
  await sql.unsafe('analyze spend_logs')
  await sql.unsafe('analyze daily_spend')
}

/** The team report computed the slow way, from the raw rows (what LiteLLM's query does), for comparison. */
export const RAW_TEAM_REPORT = `
  select to_char(start_time at time zone 'UTC', 'YYYY-MM-DD') as day, coalesce(team_id, '') as team, model, api_key,
    sum(spend) as spend, sum(total_tokens)::bigint as tokens
  from spend_logs where start_time >= $1::timestamptz and start_time < $2::timestamptz
  group by 1, 2, 3, 4 order by 1, 2, 3, 4`
