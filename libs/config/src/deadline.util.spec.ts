import { withinDeadline } from './deadline.util';

describe('withinDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("gives the work's outcome when it settles first, and leaves no timer behind", async () => {
    await expect(withinDeadline(Promise.resolve('done'), 1_000, () => 'late')).resolves.toBe('done');
    await expect(withinDeadline(Promise.reject(new Error('broken')), 1_000, () => 'late')).rejects.toThrow('broken');
    expect(jest.getTimerCount()).toBe(0);
  });

  it("gives onTimeout's value, or its error, when the work does not settle in time", async () => {
    const never = new Promise<string>(() => undefined);
    const value = withinDeadline(never, 1_000, () => 'late');
    const error = withinDeadline(never, 1_000, () => {
      throw new Error('no answer');
    });
    jest.advanceTimersByTime(1_000);
    await expect(value).resolves.toBe('late');
    await expect(error).rejects.toThrow('no answer');
  });
});
