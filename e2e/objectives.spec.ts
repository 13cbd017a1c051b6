// TRL's newer objectives in the page: a link that sets them opens a lab that trains with them
// (on WebGPU), logs the metrics TRL logs for them, and the worksheet writes their formulas.
import { expect, test } from '@playwright/test'
import { echoLink, lastMetrics, openLab } from './helpers'

test('a link with GSPO-level SAPO, an entropy mask and an entropy bonus trains and shows their formulas', async ({ page }) => {
  await openLab(page, echoLink({ loss_type: 'sapo', importance_sampling_level: 'sequence', top_entropy_quantile: 0.5, entropy_coef: 0.01, beta: 0.04 }))
  await expect(page.getByLabel('loss_type', { exact: true })).toHaveValue('sapo')
  await expect(page.getByLabel('importance_sampling_level', { exact: true })).toHaveValue('sequence')
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  const m = await lastMetrics(page)
  for (const key of ['kl', 'entropy', 'policy_loss', 'entropy_coef', 'reward_std']) expect(Number.isFinite(m[key]), key).toBe(true)
  expect(m['clip_ratio/region_mean']).toBeUndefined() // TRL logs clip ratios for the clip family only
  const sheet = page.getByRole('region', { name: 'GRPO worksheet' })
  await expect(sheet.getByRole('heading', { name: /Per-token loss: loss_type = sapo/ })).toBeVisible()
  await expect(sheet.getByRole('heading', { name: /importance_sampling_level = sequence/ })).toBeVisible()
  await expect(sheet.locator('.katex', { hasText: 'GSPO' })).toBeVisible()
})

test('typed numbers for VESPO and CISPO: their per-token losses and metrics', async ({ page }) => {
  await openLab(page, echoLink())
  const sheet = page.getByRole('region', { name: 'GRPO worksheet' })
  await sheet.getByLabel('Worksheet source').selectOption('typed')
  const input = (lossType: string) => JSON.stringify({
    config: { loss_type: lossType, epsilon_high: 4 },
    groups: [{ rewards: [1, 0, 0.5], completions: [{ logp: [-0.5, -0.2], logp_old: [-0.7, -0.1] }, { logp: [-1.0] }, { logp: [-0.3, -0.9], logp_old: [-0.3, -0.2] }] }],
  })
  await sheet.getByLabel('Worksheet numbers').fill(input('vespo'))
  await expect(sheet.getByRole('heading', { name: /Per-token loss: loss_type = vespo/ })).toBeVisible()
  await expect(sheet.locator('.katex', { hasText: 'φ' }).first()).toBeVisible()
  await sheet.getByLabel('Worksheet numbers').fill(input('cispo'))
  await expect(sheet.getByRole('heading', { name: /Per-token loss: loss_type = cispo/ })).toBeVisible()
  await expect(sheet.getByRole('table', { name: 'Worksheet per completion' }).locator('tbody tr')).toHaveCount(3)
  await sheet.getByLabel('Worksheet numbers').fill(input('ppo'))
  await expect(sheet.getByRole('alert')).toContainText('allowed: grpo, bnpo, dr_grpo, dapo, luspo, cispo, sapo, vespo')
})
