// The replay's own rules, apart from React: which frame comes next, how long a frame stays at each
// speed, and what step 6's rows show at a frame. Everything is read from the recorded scenes.
import type {
  CardNumber,
  CardRole,
  DialogState,
  ReplayFrame,
  ReplayReader,
  ReplayScene,
} from '@reservkort/domain';

export const REPLAY_SPEEDS = [1, 2, 4] as const;
export type ReplaySpeed = (typeof REPLAY_SPEEDS)[number];

/** How long one frame is shown at 1×: long enough to read its sentence. */
export const FRAME_MS = 2000;

export const frameDelay = (speed: ReplaySpeed): number => FRAME_MS / speed;

/** A frame index kept within the frames (0 for none). */
export const clampFrame = (index: number, count: number): number =>
  count === 0 ? 0 : Math.min(Math.max(Math.trunc(index), 0), count - 1);

/** Where playing goes after `index`: the next frame, or null at the end (playing stops there). */
export const nextFrame = (index: number, count: number): number | null =>
  index + 1 < count ? index + 1 : null;

/** The state of a row of step 6, as the download list shows it. */
export type PhaseState = 'waiting' | 'doing' | 'done' | 'failed' | 'notStarted';

/** Rows of step 6 in order: keys, PIN 1 dialog, PIN 2 dialog, issuing, writing. */
export const PHASE_ROWS = ['keys', 'pin1', 'pin2', 'issuing', 'writing'] as const;

const dialogRow = (state: DialogState): PhaseState =>
  state === 'completed' ? 'done' : state === 'shown' ? 'doing' : state === 'cancelled' ? 'failed' : 'waiting';

const phasesOfDownload = (download: NonNullable<ReplayScene['download']>): PhaseState[] => [
  download.phase === 'key-generation' ? 'doing' : 'done',
  dialogRow(download.dialogs.auth),
  dialogRow(download.dialogs.sign),
  download.phase === 'issuing' ? 'doing' : download.phase === 'writing' ? 'done' : 'waiting',
  download.phase === 'writing' ? 'doing' : 'waiting',
];

/**
 * Step 6's rows at a frame, or null where the frame is not at step 6 or its scene was not recorded.
 * After a fault the flow drops its download state; the rows are then those of the attempt's last
 * recorded download, the row it stopped at marked failed (an open PIN dialog first) and the rows it
 * never reached said so, as the live screen does.
 */
export const phasesAt = (frames: readonly ReplayFrame[], index: number): PhaseState[] | null => {
  const frame = frames[index];
  const scene = frame?.scene;
  if (frame === undefined || scene == null || scene.step !== 6) return null;
  if (scene.download !== null) return phasesOfDownload(scene.download);
  if (scene.fault === null) return PHASE_ROWS.map(() => 'waiting');
  const before = frames
    .slice(0, index)
    .findLast((earlier) => earlier.attempt === frame.attempt && earlier.scene?.download != null);
  const download = before?.scene?.download;
  if (download == null) return PHASE_ROWS.map(() => 'notStarted');
  const rows = phasesOfDownload(download);
  // A dialog that never appeared is its own row's failure, whatever else was still going.
  const notShown =
    scene.fault === 'AUTH_DIALOG_NOT_SHOWN' ? 1 : scene.fault === 'SIGN_DIALOG_NOT_SHOWN' ? 2 : undefined;
  const dialogOpen = [1, 2].find((row) => rows[row] === 'doing');
  const failed = notShown ?? dialogOpen ?? rows.findIndex((state) => state !== 'done');
  return rows.map((state, row) =>
    row === failed ? 'failed' : state === 'doing' || state === 'waiting' ? 'notStarted' : state,
  );
};

/** A reader as the readers' list shows it: connected or not, the card in it and whose, in words. */
export interface ReaderSlotView {
  readonly connected: boolean;
  readonly card: { readonly cardNumber: CardNumber | null; readonly holder: string | null } | null;
}

export const slotViewOf = (
  reader: ReplayReader,
  roles: { readonly [R in CardRole]: string },
): ReaderSlotView => ({
  connected: reader.connected,
  card: reader.card === null ? null : { cardNumber: reader.card.cardNumber, holder: roles[reader.card.role] },
});
