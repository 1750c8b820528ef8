// @accounts/mail/delivery: the consumer side of the mail queue (event to message to SMTP), for the worker only.
export { MailComposer, MalformedEventError, UnsupportedEventVersionError, type OutgoingMail } from './mail.composer';
export { BUILT_IN_TEMPLATES_DIR, MailRenderer, TemplateError, type MailRendererOptions, type RenderedMail, type TemplateContext } from './mail.renderer';
export { MailSender, type Delivery } from './mail.sender';
export { previewMail, runPreviewCli, DEFAULT_PREVIEW_DIR, UnknownEventError, type PreviewedMail, type PreviewOptions } from './mail.preview';
export { smtpTransportOptions, type SmtpSettings } from './smtp.transport';
