import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Log } from './log';

type Node = { kind: 'bib'; uri: vscode.Uri };

/** The library browser. For now: the workspace's .bib files. */
export class LibraryTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private bibs: vscode.Uri[] = [];

  constructor(private readonly log: Log) {}

  async refresh(): Promise<void> {
    this.bibs = await vscode.workspace.findFiles('**/*.bib', '**/node_modules/**');
    this.bibs.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    await vscode.commands.executeCommand('setContext', 'scholar.hasBib', this.bibs.length > 0);
    this.log.debug(`library: ${this.bibs.length} .bib files`);
    this.changed.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = new vscode.TreeItem(path.basename(node.uri.fsPath), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = node.uri;
    item.description = vscode.workspace.asRelativePath(path.dirname(node.uri.fsPath));
    item.contextValue = 'bibFile';
    item.command = { command: 'vscode.open', title: 'Open', arguments: [node.uri] };
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (node) return [];
    return this.bibs.map((uri) => ({ kind: 'bib', uri }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
