// Entry point of the grpo-lab command (bin/grpo-lab.mjs starts Node on this file).
import { main } from './main'

const code = await main(process.argv.slice(2))
// Dawn may keep the process alive after the device is destroyed: leave explicitly, once stdout
// has drained (a pipe takes 64 KiB at a time: exiting at once cut `grpo-lab logits` short)
process.stdout.write('', () => process.exit(code))
