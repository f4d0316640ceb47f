/** The clock port: every decision about time takes `now` from here, so tests can move it. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
