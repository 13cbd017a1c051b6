// Learning-rate schedules over a run's optimizer updates, with Hugging Face's names and
// formulas (get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup, no warmup),
// which TRL's GRPOTrainer inherits: update u of U (0-based) gets lr × factor(u, U).
// The first update uses the full rate; linear reaches lr/U on the last one.

export const LR_SCHEDULER_TYPES = ['linear', 'cosine', 'constant'] as const
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number]

/** The learning rate of optimizer update `update` (0-based) in a run of `totalUpdates` updates. */
export function scheduledLearningRate(type: LrSchedulerType, lr: number, update: number, totalUpdates: number): number {
  const progress = Math.min(1, update / Math.max(1, totalUpdates)) // past the end: 1, so never negative
  switch (type) {
    case 'constant': return lr
    case 'linear': return lr * (1 - progress)
    case 'cosine': return lr * 0.5 * (1 + Math.cos(Math.PI * progress))
  }
}
