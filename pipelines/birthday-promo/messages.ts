import Handlebars from "handlebars";
import { DateTime } from "luxon";
import type { EmailMessage } from "../../connectors/smtp/sender.js";
import type { BirthdayUser } from "./birthday.js";
import type { Promo } from "./stores.js";
import type { WhatsAppMessage } from "./whatsapp/client.js";

const SUBJECT = Handlebars.compile<{ name: string }>(
  "Happy birthday, {{name}}! A gift inside 🎂",
);
const TEXT = Handlebars.compile<{
  name: string;
  code: string;
  percent: number;
  until: string;
}>(
  "Hi {{name}},\n\nHappy birthday from all of us! Use code {{code}} for {{percent}}% off, valid until {{until}}.\n",
);
const HTML = Handlebars.compile<{
  name: string;
  code: string;
  percent: number;
  until: string;
}>(
  "<p>Hi {{name}},</p><p>Happy birthday from all of us! Use code <strong>{{code}}</strong> for {{percent}}% off, valid until {{until}}.</p>",
);

/** Template name the WhatsApp Business account must have approved. */
export const WHATSAPP_TEMPLATE = "birthday_promo";

const until = (promo: Promo, zone: string): string =>
  DateTime.fromMillis(promo.validUntil, { zone }).toFormat(
    "d LLLL yyyy HH:mm ZZZZ",
  );

/**
 * The birthday email of one user (Handlebars escapes the name in the HTML part).
 *
 * @example
 * ```ts
 * const mail = birthdayEmail(user, promo, "Asia/Jakarta");
 * ```
 */
export function birthdayEmail(
  user: BirthdayUser & { readonly email: string },
  promo: Promo,
  zone: string,
): EmailMessage {
  const data = {
    name: user.name,
    code: promo.code,
    percent: promo.discountPercent,
    until: until(promo, zone),
  };
  return {
    to: user.email,
    subject: SUBJECT({ name: user.name }),
    text: TEXT(data),
    html: HTML(data),
    headers: { "X-Promo-Id": promo.id },
  };
}

/**
 * The birthday WhatsApp template message of one user: body parameters name, code, percent.
 *
 * @example
 * ```ts
 * const msg = birthdayWhatsApp(user, promo, "id");
 * ```
 */
export function birthdayWhatsApp(
  user: BirthdayUser & { readonly phone: string },
  promo: Promo,
  language: string,
): WhatsAppMessage {
  return {
    to: user.phone,
    template: {
      name: WHATSAPP_TEMPLATE,
      language: { code: language },
      components: [
        {
          type: "body",
          parameters: [
            { type: "text", text: user.name },
            { type: "text", text: promo.code },
            { type: "text", text: String(promo.discountPercent) },
          ],
        },
      ],
    },
  };
}
