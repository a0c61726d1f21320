import { expect } from '@jest/globals';
import { HtmlValidate } from 'html-validate';

/** The public pages' HTML check: html-validate's recommended rules, with the two exceptions the pages need. */
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // Long titles come from release titles; the page must still carry them whole.
    'long-title': 'off',
    // Repeated checkboxes of one name are how a form sends a list (the subscription languages).
    'form-dup-name': ['error', { shared: ['radio', 'checkbox', 'button', 'reset', 'submit'] }],
  },
});

export async function expectValidHtml(html: string) {
  const report = await validator.validateString(html);
  const messages = report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId} ${m.line}:${m.column} ${m.message}`));
  expect(messages).toEqual([]);
}
