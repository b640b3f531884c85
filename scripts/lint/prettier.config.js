// Prettier for src, test and scripts: one line up to 120 characters, single quotes. The
// markup inside html`…` templates is left as written: its whitespace is part of the output.
export default {
  embeddedLanguageFormatting: 'off',
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
};
