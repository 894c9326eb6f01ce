import * as vscode from 'vscode';
import type { Handlers } from './types';
import type { Log } from '../log';

/** The walkthrough's id as VS Code names it: `<publisher>.<name>#<walkthrough id>`. */
export const WALKTHROUGH_ID = 'scholar-dev.scholar#scholar.gettingStarted';
/** globalState key: the user closed the no-email prompt or chose not to be asked again. */
export const NO_EMAIL_DISMISSED_KEY = 'scholar.noEmailPrompt.dismissed';

export const NO_EMAIL_MESSAGE =
  vscode.l10n.t('Scholar has no contact email, so Unpaywall (the largest source of open-access PDFs) is skipped and Crossref is used at its slower public rate. ') +
  vscode.l10n.t('Set scholar.contactEmail to use both in full.');
export const SET_EMAIL = vscode.l10n.t('Set Contact Email');
export const DONT_ASK = vscode.l10n.t('Don\'t Ask Again');

// Deliberately loose: the services only need something a person could answer; a typo is the user's to fix.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function contactEmail(): string | undefined {
  // Only the user's own settings count (a workspace must not set where replies go), as in config.ts.
  const v = vscode.workspace.getConfiguration('scholar').inspect<string>('contactEmail')?.globalValue;
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/**
 * First-run help: the walkthrough's commands, and a one-time prompt when a job starts without a
 * contact email. Without one, Unpaywall is skipped silently by the fetch job; this says so once.
 */
export class FirstRunFeature {
  private promptedThisSession = false;
  /** For tests: every prompt shown since activation, and the answer to the last one once given. */
  readonly prompts: string[] = [];
  lastAnswer: Promise<string | undefined> | undefined;

  constructor(
    private readonly state: vscode.Memento,
    private readonly log: Log,
  ) {}

  get dismissed(): boolean {
    return this.state.get<boolean>(NO_EMAIL_DISMISSED_KEY) === true;
  }

  /** Called when a job starts. Never awaits the user: the job goes on while the prompt is up. */
  jobStarting(): void {
    if (contactEmail() || this.dismissed || this.promptedThisSession) return;
    this.promptedThisSession = true;
    this.prompts.push(NO_EMAIL_MESSAGE);
    this.log.info('no contact email: Unpaywall is skipped, Crossref runs in its public pool');
    this.lastAnswer = Promise.resolve(vscode.window.showInformationMessage(NO_EMAIL_MESSAGE, SET_EMAIL, DONT_ASK)).then(async (answer) => {
      if (answer === SET_EMAIL) await this.setContactEmail(undefined);
      // Closing the notification is a dismissal too: the prompt is meant to be seen once.
      else await this.state.update(NO_EMAIL_DISMISSED_KEY, true);
      return answer;
    });
  }

  /** For tests: forget that this window prompted already, and optionally the stored dismissal. */
  async resetForTests(opts: { dismissal: boolean }): Promise<void> {
    this.promptedThisSession = false;
    this.lastAnswer = undefined;
    this.prompts.length = 0;
    if (opts.dismissal) await this.state.update(NO_EMAIL_DISMISSED_KEY, undefined);
  }

  /** Asks for the address (or takes it as the argument) and stores it in the user settings. */
  async setContactEmail(arg: unknown): Promise<string | undefined> {
    const current = contactEmail();
    const value =
      typeof arg === 'string'
        ? arg
        : await vscode.window.showInputBox({
            title: vscode.l10n.t('Scholar: contact email'),
            prompt: vscode.l10n.t('Sent to Crossref, OpenAlex and Unpaywall (Unpaywall requires it) and in the User-Agent of Scholar’s requests. Stored in your user settings.'),
            placeHolder: 'you@university.edu',
            value: current ?? '',
            ignoreFocusOut: true,
            validateInput: (v) => (!v.trim() || EMAIL.test(v.trim()) ? undefined : vscode.l10n.t('This does not look like an email address.')),
          });
    if (value === undefined) return undefined;
    const email = value.trim();
    if (email && !EMAIL.test(email)) throw new Error(vscode.l10n.t('"{0}" does not look like an email address', email));
    // Application scope: the setting is only read from user settings, so it is written there.
    await vscode.workspace.getConfiguration('scholar').update('contactEmail', email || undefined, vscode.ConfigurationTarget.Global);
    return email;
  }

  table(): Handlers<FirstRunCommandId> {
    return {
      'scholar.setContactEmail': (arg) => this.setContactEmail(arg),
      'scholar.openLibrary': async () => {
        await vscode.commands.executeCommand('workbench.view.extension.scholar');
        await vscode.commands.executeCommand('scholar.library.focus');
        return true;
      },
      'scholar.gettingStarted': () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    };
  }
}

type FirstRunCommandId = 'scholar.setContactEmail' | 'scholar.openLibrary' | 'scholar.gettingStarted';

// Typed structurally, not by CommandsOf: the container builds FirstRunFeature, so importing it back would be a cycle.
export const firstRunCommands = ({ firstRun }: { firstRun: FirstRunFeature }): Handlers<FirstRunCommandId> => firstRun.table();
