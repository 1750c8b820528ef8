import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';

/**
 * The estimate reads this many leading characters only. Its cost grows steeply with length and
 * runs on the event loop. Worst cases measured on a loaded 2-core machine (median of 7 runs;
 * repeats such as '1'×64, digit runs, l33t-heavy strings, random base64): 50–140 ms at 64
 * characters with 10 l33t substitutions, 20–35 ms at 32 with 4; a mixed l33t string of 32 took up
 * to ~120 ms under heavy load. Each check runs behind the per-IP limit (or a valid token). A
 * password whose first 32 characters are hard to guess is hard to guess; one whose first 32 are
 * guessable is refused whatever follows.
 */
export const ESTIMATE_MAX_LENGTH = 32;
/** Bounds the l33t variants tried per password, the other steep cost; `P@$$w0rd` needs four. */
const L33T_MAX_SUBSTITUTIONS = 4;

let factory: ZxcvbnFactory | undefined;

/**
 * One zxcvbn per process, shared by every app instance in it: its dictionaries take ~60 MB and
 * a few hundred milliseconds to build.
 */
function zxcvbn(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
    translations: zxcvbnEn.translations,
    graphs: zxcvbnCommon.adjacencyGraphs,
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    maxLength: ESTIMATE_MAX_LENGTH,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  });
  return factory;
}

/** The zxcvbn strength estimate (common passwords, words, keyboard walks, sequences, repeats, l33t). */
@Injectable()
export class PasswordStrengthEstimator implements OnModuleInit {
  /** Builds the dictionaries at boot, so the first registration does not pay for them. */
  onModuleInit(): void {
    zxcvbn();
  }

  /** `password` must be at most ESTIMATE_MAX_LENGTH characters; `ownWords` count as dictionary words. */
  estimate(password: string, ownWords: string[]): ZxcvbnResult {
    return zxcvbn().check(password, ownWords);
  }
}
