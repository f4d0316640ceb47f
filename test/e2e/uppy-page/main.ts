/**
 * The configuration docs/uppy.md recommends, verbatim: @uppy/core + @uppy/aws-s3 with
 * dropship as `companionEndpoint`. The e2e test serves this page from the api's origin
 * (the owner-token cookie is same-origin), picks a file and reads #result.
 */
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

const MiB = 1024 * 1024;
const log = document.getElementById('log')!;
const result = document.getElementById('result')!;

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, {
  companionEndpoint: location.origin,
  // Anything above 5 MiB goes multipart (Uppy's default threshold is 100 MB).
  shouldUseMultipart: (file) => (file.size ?? 0) > 5 * MiB,
});
// dropship plans a drop's parts from its size, which Uppy does not send by itself.
uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }));
uppy.on('upload-progress', (file, p) => {
  log.textContent = `${file?.name}: ${p.bytesUploaded} / ${p.bytesTotal}`;
});

document.getElementById('file')!.addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  for (const f of input.files ?? []) uppy.addFile({ name: f.name, type: f.type, data: f });
  const r = await uppy.upload();
  result.textContent = JSON.stringify({
    successful: (r?.successful ?? []).map((f) => ({ name: f.name, size: f.size, body: f.response?.body, uploadURL: f.response?.uploadURL })),
    failed: (r?.failed ?? []).map((f) => ({ name: f.name, error: String(f.error) })),
  });
});
