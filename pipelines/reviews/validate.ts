import { z } from "zod";
import { SluiceError } from "../../operators/sluice-error.js";
import type { Review } from "./types.js";

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const instant = z.date().refine((d) => !Number.isNaN(d.getTime()), {
  message: "must be a valid date",
});

/**
 * What the review service accepts: ids positive integers, a UUID review id, a rating from
 * 0.5 to 5 in half steps, `updatedAt` not before `createdAt`, a version of at least 1.
 */
export const reviewSchema = z
  .object({
    reviewId: z.guid({ message: "must be a UUID" }),
    movieId: id,
    userId: id,
    rating: z
      .number()
      .min(0.5, { message: "must be at least 0.5" })
      .max(5, { message: "must be at most 5" })
      .refine((r) => Number.isInteger(r * 2), {
        message: "must be in half steps (0.5, 1, …, 5)",
      }),
    text: z.string().max(10_000).nullable(),
    createdAt: instant,
    updatedAt: instant,
    version: z.number().int().min(1, { message: "must be at least 1" }),
  })
  .superRefine((r, ctx) => {
    if (r.updatedAt.getTime() < r.createdAt.getTime())
      ctx.addIssue({
        code: "custom",
        path: ["updatedAt"],
        message: "must not be before createdAt",
      });
  });

/** The outcome of {@link checkReview}. */
export type ReviewCheck =
  | { readonly ok: true; readonly review: Review }
  | { readonly ok: false; readonly error: SluiceError };

/**
 * Checks an incoming review; a bad one gives a `VALIDATE` SluiceError whose message and
 * `context.field` name the first bad field (values are not printed: review text is user data).
 *
 * @example
 * ```ts
 * const r = checkReview({ ...review, rating: 7 });
 * if (!r.ok) r.error.message; // "review.rating must be at most 5"
 * ```
 */
export function checkReview(input: unknown): ReviewCheck {
  const parsed = reviewSchema.safeParse(input);
  if (parsed.success) return { ok: true, review: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".") ?? "";
  const key =
    typeof input === "object" &&
    input !== null &&
    typeof (input as { reviewId?: unknown }).reviewId === "string"
      ? (input as { reviewId: string }).reviewId
      : undefined;
  return {
    ok: false,
    error: new SluiceError(
      "VALIDATE",
      `review${field === "" ? "" : `.${field}`} ${issue?.message ?? "is invalid"}`,
      {
        context: {
          stage: "validate",
          ...(field === "" ? {} : { field }),
          ...(key === undefined ? {} : { key }),
        },
      },
    ),
  };
}

/**
 * Returns the review when it is valid, throws the `VALIDATE` error of {@link checkReview}
 * otherwise.
 *
 * @example
 * ```ts
 * await store.put(validateReview(body));
 * ```
 */
export function validateReview(input: unknown): Review {
  const r = checkReview(input);
  if (!r.ok) throw r.error;
  return r.review;
}
