import { z } from 'zod'

/** GET /health?model=: one model group (or `litellm_params.model`); absent = every deployment. */
export const healthQuery = z.object({ model: z.string().min(1).optional() })
