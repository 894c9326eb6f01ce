// A minimal but valid PDF writer: one page whose text layer carries the title and DOI, a correct
// xref table and trailer, and optional padding (an unreferenced stream object) to reach a size.

function pdfString(s: string): string {
  // Standard 14 fonts use WinAnsi; anything outside printable ASCII becomes '?'.
  return `(${s.replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1')})`;
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(/\s+/)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

export interface PdfContent {
  title: string;
  doi?: string;
  lines?: string[];
}

function build(c: PdfContent, padding: number): Buffer {
  const text: string[] = ['BT', '/F1 16 Tf', '72 720 Td', '20 TL'];
  for (const l of wrap(c.title || 'Untitled', 60)) text.push(`${pdfString(l)} Tj`, 'T*');
  text.push('/F1 11 Tf', '14 TL', 'T*');
  if (c.doi) text.push(`${pdfString(`DOI: ${c.doi}`)} Tj`, 'T*');
  for (const l of c.lines ?? []) text.push(`${pdfString(l)} Tj`, 'T*');
  text.push('ET');
  const content = text.join('\n');
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Title ${pdfString(c.title || 'Untitled')} /Producer (Scholar replay) >>`,
  ];
  if (padding > 0) objs.push(`<< /Length ${padding} >>\nstream\n${'%'.repeat(padding)}\nendstream`);
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A one-page PDF; with `size`, padded to exactly that many bytes when the size allows it. */
export function makePdf(c: PdfContent, size?: number): Buffer {
  let pdf = build(c, 0);
  if (!size || size <= pdf.length + 64) return pdf;
  let pad = size - pdf.length - 48;
  for (let i = 0; i < 4; i++) {
    pdf = build(c, pad);
    if (pdf.length === size) break;
    pad += size - pdf.length;
  }
  return pdf;
}
