/**
 * libSQL runs each statement synchronously on the event loop, so two transactions of one process on one file
 * would wait on each other's lock inside a blocking call and never progress. All database work of the process
 * therefore goes through one FIFO queue: a transaction holds the queue from BEGIN until COMMIT or ROLLBACK.
 *
 * For the same reason its promises are already settled when they are returned: a transaction of many statements
 * would run as one unbroken chain of microtasks and keep every request waiting until it commits (a spend batch:
 * ~100 ms). After each statement the queue therefore yields to the event loop once, so requests — which never
 * touch the database on the proxy's hot path — are served between statements.
 */
import type { Client, Transaction } from '@libsql/client'

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

async function thenYield<T>(work: Promise<T>): Promise<T> {
  try {
    return await work
  } finally {
    await yieldToEventLoop()
  }
}

class FifoLock {
  private tail: Promise<void> = Promise.resolve()

  /** Resolves with a release function once every earlier holder has released. */
  acquire(): Promise<() => void> {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const turn = this.tail.then(() => release)
    this.tail = this.tail.then(() => released)
    return turn
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire()
    try {
      return await work()
    } finally {
      release()
    }
  }
}

export function serializeClient(client: Client): Client {
  const lock = new FifoLock()
  const queued = new Set(['execute', 'batch', 'migrate', 'executeMultiple'])
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof property === 'string' && queued.has(property) && typeof value === 'function') {
        return (...args: unknown[]) => lock.run(() => thenYield(value.apply(target, args)))
      }
      if (property === 'transaction') {
        return async (...args: unknown[]) => {
          const release = await lock.acquire()
          let transaction: Transaction
          try {
            transaction = await (value as (...a: unknown[]) => Promise<Transaction>).apply(target, args)
          } catch (error) {
            release()
            throw error
          }
          return holdUntilSettled(transaction, release)
        }
      }
      // Bound to the real client: its methods use private fields, which a proxy receiver cannot reach.
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function holdUntilSettled(transaction: Transaction, release: () => void): Transaction {
  let done = false
  const settle = () => {
    if (!done) {
      done = true
      release()
    }
  }
  return new Proxy(transaction, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (property === 'execute' || property === 'batch') {
        return (...args: unknown[]) => thenYield((value as (...a: unknown[]) => Promise<unknown>).apply(target, args))
      }
      if ((property === 'commit' || property === 'rollback') && typeof value === 'function') {
        return async (...args: unknown[]) => {
          try {
            return await value.apply(target, args)
          } finally {
            settle()
          }
        }
      }
      if (property === 'close' && typeof value === 'function') {
        return (...args: unknown[]) => {
          try {
            return value.apply(target, args)
          } finally {
            settle()
          }
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
