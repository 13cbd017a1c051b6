// The tasks by id: what the page, the worker and the CLI look tasks up in.
import { addition } from './addition'
import { countdown } from './countdown'
import { echoTask } from './echo'
import { TaskInputError } from './types'
import type { Task, TaskOptions } from './types'

export const TASKS: Record<string, Task> = {
  [addition.id]: addition,
  [countdown.id]: countdown,
  [echoTask.id]: echoTask,
}

export const TASK_IDS: readonly string[] = Object.keys(TASKS)

export function getTask(id: string): Task {
  // own keys only: "constructor" or "__proto__" must not find Object's members
  if (!Object.hasOwn(TASKS, id)) throw new TaskInputError('task', `unknown task '${id}'; allowed: ${TASK_IDS.join(', ')}`)
  return TASKS[id]
}

/** The task a run config describes: its task id with the config's task options (defaults for
 *  keys it lacks). The same options give the same Task object, so it can be compared by identity. */
export function taskFor(config: { task: string } & TaskOptions): Task {
  const task = getTask(config.task)
  return task.withOptions ? task.withOptions(config) : task
}
