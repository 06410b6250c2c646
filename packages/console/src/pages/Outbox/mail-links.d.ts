/** The mail's text cut into plain text and links, in order (`url` set on the links). */
export declare function mailParts(text: string): {
    text: string;
    url?: string;
}[];
