import { z } from 'zod';

/** The playbook's own shape (step params are checked against each action's schema separately). */
export const playbookShape = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/,
      'a name of letters, digits, space, dot, dash, underscore (≤ 80)',
    ),
  description: z.string().max(2000).default(''),
  steps: z.array(z.unknown()).min(1, 'a playbook needs at least one step').max(200),
});

export const stepShape = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      'an id of lowercase letters, digits, dash and underscore (≤ 64)',
    )
    .optional(),
  uses: z.string().min(1),
  with: z.record(z.string(), z.unknown()).optional(),
  confirm: z.boolean().optional(),
  'continue-on-error': z.boolean().optional(),
  always: z.boolean().optional(),
});
