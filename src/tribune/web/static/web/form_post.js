/* OAuth response_mode=form_post: send the hidden form back to the application at
 * once (a Continue button remains for browsers without JavaScript). */
document.getElementById("form-post-response").submit();
