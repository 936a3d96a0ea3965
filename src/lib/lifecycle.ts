/** Background work a process starts after listening and stops, newest first, on a graceful stop. */
export type Lifecycle = {
  onStart(task: () => void | Promise<void>): void
  onStop(task: () => void | Promise<void>): void
  start(): Promise<void>
  stop(): Promise<void>
}

export function createLifecycle(onError: (error: unknown) => void = () => {}): Lifecycle {
  const starts: Array<() => void | Promise<void>> = []
  const stops: Array<() => void | Promise<void>> = []
  let stopped = false
  return {
    onStart: (task) => void starts.push(task),
    onStop: (task) => void stops.push(task),
    async start() {
      for (const task of starts) await task()
    },
    async stop() {
      if (stopped) return
      stopped = true
      for (const task of [...stops].reverse()) {
        try {
          await task()
        } catch (error) {
          onError(error)
        }
      }
    },
  }
}
