/** Attach PDF…, Open via Library, Attach from Downloads, Import PDFs (the work is in PdfCommands). */
import type { CommandsOf } from '../container';

type Id = 'scholar.attachPdf' | 'scholar.openViaLibrary' | 'scholar.attachFromDownloads' | 'scholar.importZotero' | 'scholar.importFolder';

export const pdfCommands: CommandsOf<Id> = ({ pdfs }) => ({
  'scholar.attachPdf': (arg, file) => pdfs.attach(arg, file),
  'scholar.openViaLibrary': (arg) => pdfs.openViaLibrary(arg),
  'scholar.attachFromDownloads': (arg, folder) => pdfs.attachFromDownloads(arg, folder),
  'scholar.importZotero': (dir, opts) => pdfs.importPdfs('zotero', dir, opts),
  'scholar.importFolder': (dir, opts) => pdfs.importPdfs('folder', dir, opts),
});
