import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAIL_EVENT_NAMES } from '../contract';
import { COMPOSER_CASES } from './mail.composer';
import { PREVIEW_SAMPLES } from './mail.preview';
import { BUILT_IN_TEMPLATES_DIR } from './mail.renderer';

/** An event added to the contract is a mail only once it has all of these; none may be forgotten. */
describe('every mail event is complete', () => {
  it.each([...MAIL_EVENT_NAMES])('%s has a template, a composer case and a preview sample', (name) => {
    expect({ name, template: existsSync(join(BUILT_IN_TEMPLATES_DIR, `${name}.hbs`)) }).toEqual({ name, template: true });
    expect(typeof COMPOSER_CASES[name]).toBe('function');
    expect(PREVIEW_SAMPLES[name]?.length).toBeGreaterThan(0);
  });

  it('has nothing for an event the contract does not declare', () => {
    expect(Object.keys(COMPOSER_CASES).sort()).toEqual([...MAIL_EVENT_NAMES].sort());
    expect(Object.keys(PREVIEW_SAMPLES).sort()).toEqual([...MAIL_EVENT_NAMES].sort());
  });
});
