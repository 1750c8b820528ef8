// The entry scripts/mail-preview.js loads (sources in development, the worker's build otherwise);
// the preview itself lives with the templates, in @accounts/mail/delivery.
export { runPreviewCli } from '@accounts/mail/delivery';
