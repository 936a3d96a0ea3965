/**
 * The spend spool: an append-only file of settlements (one JSON object per line) that a settlement is written to
 * before `record()` returns, and that the flusher reads back in order and trims once a batch has committed.
 *
 * Durability. Every append is one `write(2)` of a whole line through an `O_APPEND` descriptor: once it returns
 * the line is in the kernel's page cache and survives the process being killed (kill -9, OOM, a crash). It
 * reaches the disk itself on `sync()` (fdatasync), which the flusher calls before each batch it sends, i.e. at
 * least every `proxy_batch_write_at` seconds; so a machine or OS crash loses at most the last unsynced interval.
 * With `fsync: 'always'`, every append is followed by fdatasync (slower; nothing is lost even then).
 *
 * Trimming. The committed part is always a prefix (batches are taken from the head, in order). When everything
 * has committed the file is truncated; when the committed prefix is large and at least half the file, the
 * rest is copied to a new file that atomically replaces it (so a long backlog drains in linear time).
 *
 * Ownership. Each process writes its own `<instance>.jsonl` next to `<instance>.lock` ({pid, hostname}, its
 * mtime refreshed as a heartbeat). Another process adopts the spool of an owner that is gone (same host and the
 * pid no longer runs, or no heartbeat for `STALE_AFTER_MS`): it takes the lock with an atomic rename/exclusive
 * create, so exactly one adopter wins, copies the entries into its own spool (synced), then deletes the file.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { SpendLogRow } from '../db/ports'

export type SpoolEntry = { readonly recordedAt: number; readonly row: SpendLogRow }
export type FsyncPolicy = 'interval' | 'always'
/** What `readBatch` found: decoded entries (with their line text), or one undecodable line on its own. */
export type SpoolBatch = { readonly entries: SpoolEntry[]; readonly lines: string[]; readonly invalid: string | null; readonly bytes: number }

/** An owner that has not refreshed its lock for this long is gone (covers other hosts sharing the folder). */
export const STALE_AFTER_MS = 60_000
/** Compaction copies the unsettled tail only once the settled prefix is at least this large. */
const COMPACT_MIN_BYTES = 8 * 1024 * 1024
const READ_CHUNK_BYTES = 4 * 1024 * 1024
/** Entries kept in memory beside the file; a longer backlog (a database outage) is read back from the file. */
const MIRRORED_ENTRIES = 20_000
const DATE_FIELDS = ['startTime', 'endTime', 'completionStartTime'] as const

export function encodeEntry(entry: SpoolEntry): string {
  return `${JSON.stringify({ v: 1, t: entry.recordedAt, row: entry.row })}\n`
}

/** The entry of one line, or null when the line is not one (torn by a crash, or corrupted). */
export function decodeEntry(line: string): SpoolEntry | null {
  let parsed: { v?: unknown; t?: unknown; row?: Record<string, unknown> }
  try {
    parsed = JSON.parse(line)
  } catch {
    return null
  }
  const row = parsed?.row
  if (parsed?.v !== 1 || typeof parsed.t !== 'number' || !row || typeof row.requestId !== 'string' || typeof row.spend !== 'number') return null
  for (const field of DATE_FIELDS) {
    const value = row[field]
    if (value === null || value === undefined) continue
    const date = new Date(value as string)
    if (Number.isNaN(date.getTime())) return null
    row[field] = date
  }
  if (!(row.startTime instanceof Date) || !(row.endTime instanceof Date)) return null
  return { recordedAt: parsed.t, row: row as SpendLogRow }
}

type LockInfo = { pid: number; hostname: string }

/** Locks held by spools open in this process (a test process may run several gateways). */
const openHere = new Set<string>()

function writeFully(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset)
}

function readFully(fd: number, buffer: Buffer, position: number): number {
  let total = 0
  while (total < buffer.length) {
    const read = readSync(fd, buffer, total, buffer.length - total, position + total)
    if (read === 0) break
    total += read
  }
  return total
}

function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Not every platform can fsync a folder; the rename itself is still atomic.
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

export function thisHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.-]/g, '_')
}

/** Whether the owner of a lock may still be writing its spool. */
function ownerAlive(lockPath: string): boolean {
  if (openHere.has(lockPath)) return true
  let info: LockInfo | null = null
  let mtime: number
  try {
    mtime = statSync(lockPath).mtimeMs
    info = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    // A lock being written right now is unreadable for an instant: count it as alive, look again later.
    return true
  }
  if (Date.now() - mtime > STALE_AFTER_MS) return false
  if (info?.hostname !== thisHost()) return true
  // Our own pid in someone else's lock is a previous incarnation (a container restarts as pid 1 again).
  if (info.pid === process.pid) return false
  try {
    process.kill(info.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class SpoolFile {
  readonly path: string
  readonly lockPath: string
  readonly rejectedPath: string
  private fd: number
  /** Start of the unsettled part. */
  private head = 0
  /** Bytes in the file. */
  private end = 0
  /**
   * The unsettled entries as appended by this process, so the flusher need not read back and parse what it
   * just wrote. Null while it does not cover the whole unsettled part (a long backlog beyond
   * MIRRORED_ENTRIES, or a file that had content when opened): batches are then read from the file, and the
   * mirror starts again once the file has drained.
   */
  private mirror: Array<{ entry: SpoolEntry; line: string; bytes: number }> | null = []

  private constructor(
    readonly folder: string,
    readonly instance: string,
    private readonly fsync: FsyncPolicy,
  ) {
    this.path = join(folder, `${instance}.jsonl`)
    this.lockPath = join(folder, `${instance}.lock`)
    this.rejectedPath = join(folder, `${instance}.rejected`)
    mkdirSync(folder, { recursive: true })
    // The lock first: a spool file never exists without its owner's lock.
    writeFileSync(this.lockPath, JSON.stringify({ pid: process.pid, hostname: thisHost() } satisfies LockInfo), { flag: 'wx' })
    openHere.add(this.lockPath)
    this.fd = openSync(this.path, 'a+')
    this.end = statSync(this.path).size
    if (this.end > 0) this.mirror = null
    syncFolder(folder)
  }

  /** Creates this process's spool in `folder` (the instance name must be unique to the process). */
  static create(folder: string, instance: string, fsync: FsyncPolicy = 'interval'): SpoolFile {
    return new SpoolFile(folder, instance, fsync)
  }

  /** Bytes written and not yet settled. */
  get pendingBytes(): number {
    return this.end - this.head
  }

  append(entry: SpoolEntry): void {
    const text = encodeEntry(entry)
    const data = Buffer.from(text, 'utf8')
    try {
      writeFully(this.fd, data)
    } catch (error) {
      // A short write (disk full) must not leave half a line for the next one to be glued to.
      ftruncateSync(this.fd, this.end)
      throw error
    }
    this.end += data.length
    if (this.mirror) {
      this.mirror.push({ entry, line: text.slice(0, -1), bytes: data.length })
      if (this.mirror.length > MIRRORED_ENTRIES) this.mirror = null
    }
    if (this.fsync === 'always') fdatasyncSync(this.fd)
  }

  /** Flushes appended lines to the disk (they already survive a killed process without this). */
  sync(): void {
    fdatasyncSync(this.fd)
  }

  /** `sync()` on the I/O thread pool, so the event loop keeps serving requests while the disk catches up. */
  syncToDisk(): Promise<void> {
    const fd = this.fd
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())))
  }

  /** Up to `max` entries from the start of the unsettled part. An undecodable line comes back alone. */
  readBatch(max: number): SpoolBatch {
    const empty: SpoolBatch = { entries: [], lines: [], invalid: null, bytes: 0 }
    if (this.mirror) {
      const taken = this.mirror.slice(0, max)
      return { entries: taken.map((m) => m.entry), lines: taken.map((m) => m.line), invalid: null, bytes: taken.reduce((sum, m) => sum + m.bytes, 0) }
    }
    let size = READ_CHUNK_BYTES
    for (;;) {
      const available = this.end - this.head
      if (available === 0) return empty
      const buffer = Buffer.allocUnsafe(Math.min(size, available))
      const read = readFully(this.fd, buffer, this.head)
      const entries: SpoolEntry[] = []
      const lines: string[] = []
      let offset = 0
      while (entries.length < max) {
        const newline = buffer.indexOf(10, offset)
        if (newline === -1 || newline >= read) break
        const line = buffer.toString('utf8', offset, newline)
        const entry = decodeEntry(line)
        if (!entry) {
          if (entries.length > 0) break
          return { entries: [], lines: [], invalid: line, bytes: newline + 1 }
        }
        entries.push(entry)
        lines.push(line)
        offset = newline + 1
      }
      if (offset > 0) return { entries, lines, invalid: null, bytes: offset }
      // Our own lines always end in a newline; without one in the whole rest, a write is still in progress.
      if (buffer.length >= available) return empty
      size *= 4
    }
  }

  /** Marks the first `bytes` of the unsettled part settled, and trims the file when that pays. */
  commit(bytes: number): void {
    this.head += bytes
    if (this.mirror) {
      let dropped = 0
      let count = 0
      while (dropped < bytes && count < this.mirror.length) dropped += this.mirror[count++].bytes
      this.mirror.splice(0, count)
    }
    if (this.head === this.end) {
      ftruncateSync(this.fd, 0)
      this.head = 0
      this.end = 0
      this.mirror ??= []
      return
    }
    if (this.head >= COMPACT_MIN_BYTES && this.head >= this.end - this.head) this.rewriteTail()
  }

  /** Keeps a line that can never be settled (undecodable, or refused by the database every time). */
  reject(line: string): void {
    const fd = openSync(this.rejectedPath, 'a')
    try {
      writeFully(fd, Buffer.from(`${line}\n`, 'utf8'))
      fdatasyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  /** Tells other processes this spool's owner is alive. */
  heartbeat(): void {
    const now = new Date()
    utimesSync(this.lockPath, now, now)
  }

  /** Closes the file; removes it and the lock when `remove` (nothing unsettled is left). */
  close(remove: boolean): void {
    closeSync(this.fd)
    openHere.delete(this.lockPath)
    if (remove) {
      unlinkIfPresent(this.path)
      unlinkIfPresent(this.lockPath)
    }
  }

  private rewriteTail(): void {
    const temporary = `${this.path}.compact`
    const out = openSync(temporary, 'w')
    try {
      const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)
      for (let position = this.head; position < this.end; ) {
        const read = readFully(this.fd, buffer.subarray(0, Math.min(buffer.length, this.end - position)), position)
        writeFully(out, buffer.subarray(0, read))
        position += read
      }
      fsyncSync(out)
    } finally {
      closeSync(out)
    }
    renameSync(temporary, this.path)
    syncFolder(this.folder)
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a+')
    this.end -= this.head
    this.head = 0
  }
}

export type Adoption = { instance: string; entries: SpoolEntry[]; invalid: string[] }

/** Calls `each` with the lines of a file, a few megabytes at a time (a last line without a newline included). */
function forEachLineChunk(path: string, each: (lines: string[]) => void): void {
  const fd = openSync(path, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)
    let carry = Buffer.alloc(0)
    for (let position = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, position)
      if (read === 0) break
      position += read
      const data = Buffer.concat([carry, buffer.subarray(0, read)])
      const end = data.lastIndexOf(10)
      if (end === -1) {
        carry = data
        continue
      }
      each(data.toString('utf8', 0, end).split('\n'))
      carry = Buffer.from(data.subarray(end + 1))
    }
    if (carry.length > 0) each([carry.toString('utf8')])
  } finally {
    closeSync(fd)
  }
}

/**
 * Takes over the spools in `folder` whose owners are gone, one at a time: `accept` (called per chunk of lines)
 * must make the entries durable elsewhere (the adopter's own spool, `selfInstance`) before it returns; an
 * orphan's files are deleted after its last chunk.
 */
export function adoptOrphans(folder: string, selfInstance: string, accept: (adoption: Adoption) => void): number {
  if (!existsSync(folder)) return 0
  let adopted = 0
  const names = readdirSync(folder)
  const instances = new Set(names.filter((name) => name.endsWith('.jsonl') || name.endsWith('.lock')).map((name) => name.replace(/\.(jsonl|lock)$/, '')))
  for (const instance of [...instances].sort()) {
    if (instance === selfInstance) continue
    const spoolPath = join(folder, `${instance}.jsonl`)
    const lockPath = join(folder, `${instance}.lock`)
    if (existsSync(lockPath)) {
      if (ownerAlive(lockPath)) continue
      // Only one of several adopters renames the stale lock; the others see ENOENT and move on.
      const stale = `${lockPath}.stale-${selfInstance}`
      try {
        renameSync(lockPath, stale)
      } catch {
        continue
      }
      unlinkIfPresent(stale)
    }
    try {
      writeFileSync(lockPath, JSON.stringify({ pid: process.pid, hostname: thisHost() } satisfies LockInfo), { flag: 'wx' })
    } catch {
      continue
    }
    if (existsSync(spoolPath)) {
      // In chunks: the spool of an instance that was down for long can be larger than memory should hold.
      forEachLineChunk(spoolPath, (lines) => {
        const entries: SpoolEntry[] = []
        const invalid: string[] = []
        for (const line of lines) {
          if (line === '') continue
          const entry = decodeEntry(line)
          if (entry) entries.push(entry)
          else invalid.push(line)
        }
        accept({ instance, entries, invalid })
        adopted += entries.length
      })
      unlinkIfPresent(spoolPath)
    }
    unlinkIfPresent(`${spoolPath}.compact`)
    unlinkIfPresent(lockPath)
  }
  syncFolder(folder)
  return adopted
}
