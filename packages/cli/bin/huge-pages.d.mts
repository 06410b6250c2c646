/** Whether glibc and the kernel here give 2 MB pages to a process started with glibc.malloc.hugetlb=1. */
export function hugePagesOffered(): boolean
