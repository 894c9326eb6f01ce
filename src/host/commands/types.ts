import type { CommandId } from '../../shared/commands';

export type CommandHandler = (...args: unknown[]) => unknown;

/** The handlers of a few commands: a feature's part of the table. Keys must be declared ids. */
export type Handlers<K extends CommandId = CommandId> = Record<K, CommandHandler>;

/** Every command id → its handler (the table registered at activation). */
export type CommandTable = Handlers<CommandId>;
