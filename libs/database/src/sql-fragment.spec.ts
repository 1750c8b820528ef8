import { sourceName } from './sql-fragment';

describe('sourceName', () => {
  it('lets a CTE name through and refuses anything else, so no input can be composed into a statement', () => {
    expect(sourceName('holder')).toBe('holder');
    for (const bad of ['', 'holder; drop table users', 'Holder', 'users u', 'holder--', "holder'"]) {
      expect(() => sourceName(bad)).toThrow('Not a CTE name');
    }
  });
});
