/** The share link as a QR code, drawn on a canvas (no data: URL, so the CSP needs nothing extra). */
import QRCode from 'qrcode';

export async function drawQr(canvas: HTMLCanvasElement, text: string): Promise<void> {
  // Dark on white whatever the page theme: phone cameras read that best.
  await QRCode.toCanvas(canvas, text, { width: 144, margin: 2, errorCorrectionLevel: 'M', color: { dark: '#000000', light: '#ffffff' } });
}
